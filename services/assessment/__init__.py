"""Ex-ante performance assessment (事前绩效评估), the first stage of a pilot project."""
