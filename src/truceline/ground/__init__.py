"""Ground sensor network processing: detect, beamform, associate, locate, attribute."""
