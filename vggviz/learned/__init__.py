"""What a channel has learned: the photos that excite it most (dataset examples), the image it would draw
(feature visualisation) and the image a class would draw (class model visualisation)."""
