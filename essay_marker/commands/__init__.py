"""The command line's pieces; `essay_marker.cli` holds the app and the main commands."""
