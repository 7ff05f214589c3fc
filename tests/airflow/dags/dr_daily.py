"""A daily DAG with catchup, as many production DAGs are written (tests/airflow)."""

from datetime import datetime

from airflow import DAG

try:  # Airflow 3
    from airflow.providers.standard.operators.empty import EmptyOperator
except ImportError:  # Airflow 2
    from airflow.operators.empty import EmptyOperator

with DAG("dr_daily", schedule="@daily", start_date=datetime(2026, 11, 1), catchup=True, tags=["dr"]):
    EmptyOperator(task_id="extract") >> EmptyOperator(task_id="load")
