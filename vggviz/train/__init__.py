"""Training a VGG on a folder or zip of class folders (issue 23): the data and its split, recipes, the loop
(head-only on cached frozen features, or fine-tuning), checkpoint writing and the recipe as a train.py script.
Imports ``evaluate``, ``photo`` and ``architecture``; UI-free."""
