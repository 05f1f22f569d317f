"""A photo through the model: decoding, weights and checkpoints, the device, one forward pass with every map, rendering."""
