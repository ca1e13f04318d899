"""Usage files in: format detection, export mappings, the pipeline, the dataset file writer."""
