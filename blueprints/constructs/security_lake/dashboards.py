"""The QuickSight dashboard definitions of the three personas.

``dashboards.json`` next to this module lists, per persona (its key is also its dataset's identifier), the
dashboard's name and its visuals: each a ``kind`` (``line``, ``bar``, ``count_bar`` or ``table``) and the arguments
of the function below that writes a visual of that kind in QuickSight's ``Definition`` format. On the sheet, the
first visual spans the width and the others half of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

DASHBOARDS_FILE = Path(__file__).with_name("dashboards.json")

Visual = dict[str, object]


def _column(data_set: str, name: str) -> dict[str, str]:
    return {"DataSetIdentifier": data_set, "ColumnName": name}


def _category(field_id: str, data_set: str, name: str) -> dict[str, object]:
    return {"CategoricalDimensionField": {"FieldId": field_id, "Column": _column(data_set, name)}}


def _total(field_id: str, data_set: str, name: str) -> dict[str, object]:
    return {
        "NumericalMeasureField": {
            "FieldId": field_id,
            "Column": _column(data_set, name),
            "AggregationFunction": {"SimpleNumericalAggregation": "SUM"},
        }
    }


def _title(text: str) -> dict[str, object]:
    return {"Visibility": "VISIBLE", "FormatText": {"PlainText": text}}


def _line(visual_id: str, title: str, ds: str, day: str, value: str, color: str) -> Visual:
    """Daily totals of ``value`` over ``day``, one line per ``color``."""
    day_field = {"FieldId": f"{visual_id}-{day}", "Column": _column(ds, day), "DateGranularity": "DAY"}
    return {
        "LineChartVisual": {
            "VisualId": visual_id,
            "Title": _title(title),
            "ChartConfiguration": {
                "FieldWells": {
                    "LineChartAggregatedFieldWells": {
                        "Category": [{"DateDimensionField": day_field}],
                        "Values": [_total(f"{visual_id}-{value}", ds, value)],
                        "Colors": [_category(f"{visual_id}-{color}", ds, color)],
                    }
                }
            },
        }
    }


def _bar(visual_id: str, title: str, ds: str, category: str, value: str, color: str | None = None) -> Visual:
    """Totals of ``value`` per ``category`` (horizontal bars), stacked by ``color``."""
    wells: dict[str, object] = {
        "Category": [_category(f"{visual_id}-{category}", ds, category)],
        "Values": [_total(f"{visual_id}-{value}", ds, value)],
    }
    if color:
        wells["Colors"] = [_category(f"{visual_id}-{color}", ds, color)]
    return {
        "BarChartVisual": {
            "VisualId": visual_id,
            "Title": _title(title),
            "ChartConfiguration": {"Orientation": "HORIZONTAL", "FieldWells": {"BarChartAggregatedFieldWells": wells}},
        }
    }


def _count_bar(visual_id: str, title: str, ds: str, category: str, counted: str) -> Visual:
    """The number of rows per ``category`` (horizontal bars)."""
    return {
        "BarChartVisual": {
            "VisualId": visual_id,
            "Title": _title(title),
            "ChartConfiguration": {
                "Orientation": "HORIZONTAL",
                "FieldWells": {
                    "BarChartAggregatedFieldWells": {
                        "Category": [_category(f"{visual_id}-{category}", ds, category)],
                        "Values": [
                            {
                                "CategoricalMeasureField": {
                                    "FieldId": f"{visual_id}-{counted}",
                                    "Column": _column(ds, counted),
                                    "AggregationFunction": "COUNT",
                                }
                            }
                        ],
                    }
                },
            },
        }
    }


def _table(visual_id: str, title: str, ds: str, columns: Sequence[str]) -> Visual:
    """The rows themselves, one column per name."""
    values = [{"FieldId": f"{visual_id}-{c}", "Column": _column(ds, c)} for c in columns]
    return {
        "TableVisual": {
            "VisualId": visual_id,
            "Title": _title(title),
            "ChartConfiguration": {"FieldWells": {"TableUnaggregatedFieldWells": {"Values": values}}},
        }
    }


#: The visual kinds of ``dashboards.json``.
_VISUALS: dict[str, Callable[..., Visual]] = {"line": _line, "bar": _bar, "count_bar": _count_bar, "table": _table}


def _load_dashboards() -> dict[str, tuple[str, tuple[Visual, ...]]]:
    """``dashboards.json``, each visual written out for its persona's dataset."""
    dashboards: dict[str, tuple[str, tuple[Visual, ...]]] = {}
    for persona, dashboard in json.loads(DASHBOARDS_FILE.read_text(encoding="utf-8")).items():
        visuals = []
        for visual in dashboard["visuals"]:
            arguments = {key: value for key, value in visual.items() if key != "kind"}
            visuals.append(_VISUALS[visual["kind"]](ds=persona, **arguments))
        dashboards[persona] = (dashboard["name"], tuple(visuals))
    return dashboards


#: Per persona: dashboard name and its visuals (the first spans the sheet, the others half of it).
PERSONA_DASHBOARDS: dict[str, tuple[str, tuple[Visual, ...]]] = _load_dashboards()


def persona_dashboard_definition(persona: str, data_set_arn: str) -> dict[str, object]:
    """The dashboard ``Definition`` of one persona (``executive``, ``custodian`` or ``operator``)."""
    name, visuals = PERSONA_DASHBOARDS[persona]
    visual_ids = [str(next(iter(v.values()))["VisualId"]) for v in visuals]  # type: ignore[index]
    elements = [
        {"ElementId": visual_id, "ElementType": "VISUAL", "ColumnSpan": 36 if i == 0 else 18, "RowSpan": 12}
        for i, visual_id in enumerate(visual_ids)
    ]
    return {
        "DataSetIdentifierDeclarations": [{"Identifier": persona, "DataSetArn": data_set_arn}],
        "Sheets": [
            {
                "SheetId": f"{persona}-overview",
                "Name": name,
                "Visuals": list(visuals),
                "Layouts": [{"Configuration": {"GridLayout": {"Elements": elements}}}],
            }
        ],
    }
