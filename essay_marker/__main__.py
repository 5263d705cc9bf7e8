"""`python -m essay_marker …` runs the essaymark command."""

from essay_marker.launch import main

if __name__ == "__main__":
    main()
