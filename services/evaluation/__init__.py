"""Evaluation (绩效评价): the self-evaluation (自评) and its scoring; key evaluation follows."""
