"""Result application (结果应用): rectification notices, the budget recommendation, public disclosure."""
