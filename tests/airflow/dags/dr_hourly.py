"""An hourly DAG without catchup (tests/airflow)."""

from datetime import datetime

from airflow import DAG

try:  # Airflow 3
    from airflow.providers.standard.operators.empty import EmptyOperator
except ImportError:  # Airflow 2
    from airflow.operators.empty import EmptyOperator

with DAG("dr_hourly", schedule="@hourly", start_date=datetime(2026, 11, 1), catchup=False, tags=["dr"]):
    EmptyOperator(task_id="ping")
