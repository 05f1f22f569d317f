"""Explanations: attributions through captum and their pictures."""
