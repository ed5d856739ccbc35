"""ReMoDiffuse."""
