"""essaymark: formative feedback and marks for GCSE history causation essays."""

__version__ = "0.1.0"
