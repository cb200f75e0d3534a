"""Tools for labelling real dialogues: candidate selection and labelling batches."""
