"""抽查 (spot checks, issue 15 item 4): the province's or a city's performance centre draws a
reproducible sample of approved targets stratified by tenant, reviews each on 完整性/相关性/适当性/
可行性, and sends a finding to the tenant as a request it must answer — the monitoring correction
requests' thread (services/monitoring/corrections.py), not a copy of it."""
