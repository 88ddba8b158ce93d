"""Deep-network layer profiles for split-point analysis: the bundled model zoo and the profile file loader."""
