"""sanhui: toolkit for the three-meeting system."""
