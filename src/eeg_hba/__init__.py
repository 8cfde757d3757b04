"""eeg-hba: harmful brain activity classification on EEG in the public HMS layout."""

__version__ = "0.1.0"
