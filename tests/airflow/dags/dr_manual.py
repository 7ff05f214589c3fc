"""A DAG that only runs when triggered; it stays paused in the tests (tests/airflow)."""

from datetime import datetime

from airflow import DAG

try:  # Airflow 3
    from airflow.providers.standard.operators.empty import EmptyOperator
except ImportError:  # Airflow 2
    from airflow.operators.empty import EmptyOperator

with DAG("dr_manual", schedule=None, start_date=datetime(2026, 11, 1), tags=["dr"]):
    EmptyOperator(task_id="noop")
