"""tutorbot: a Discord tutor for the course "Generative AI fundamentals"."""

__version__ = "0.1.0"
