"""The course as data: the content model and the lesson loader and validator."""
