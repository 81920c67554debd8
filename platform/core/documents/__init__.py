"""Printable documents (试点报告, 专报): one content model (`model.py`) rendered twice — to Word by
python-docx (`docx.py`) and to PDF by WeasyPrint from an HTML rendering of the same model
(`pdf.py`), with charts drawn server-side (`charts.py`). No Flask, no capability: the reports
capability builds a `Document` and asks for both files (`writers.py`: the engines imported when a
document is written, not when the app starts)."""
