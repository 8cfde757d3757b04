"""The public HMS layout: its constants, the contract every file and table is checked
against, where a labelled window lies, the montage and spectrograms, labels and the
prediction table. No Kedro imports."""
