"""A daily DAG for test_mwaa_dr_carried.py only (tests/airflow), so its paused state and runs are its own."""

from datetime import datetime

from airflow import DAG

try:  # Airflow 3
    from airflow.providers.standard.operators.empty import EmptyOperator
except ImportError:  # Airflow 2
    from airflow.operators.empty import EmptyOperator

with DAG("dr_probe", schedule="@daily", start_date=datetime(2026, 11, 1), catchup=False, tags=["dr"]):
    EmptyOperator(task_id="work")
