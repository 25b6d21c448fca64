"""Transform: a scikit-learn preprocessing fitted on the training window, saved as an artifact.

Numeric features are imputed (median) and standardised; categorical features are imputed
(``__missing__``) and one-hot encoded with unknown values ignored, so serving data with a new
category does not crash the model. The fitted ``ColumnTransformer`` is pickled into the
``TransformGraph`` payload; the trainer puts it in front of its estimator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from graphlets.components._io import clean_window, read_window
from graphlets.errors import InvalidArgumentError
from graphlets.pipeline import (
    ExampleAnomalies,
    Examples,
    Input,
    Inputs,
    Output,
    Schema,
    TransformGraph,
    component,
    prop,
    rolling_window,
)


def feature_columns(
    schema: Mapping[str, Any], label: str, drop: Sequence[str] = ()
) -> tuple[list[str], list[str]]:
    """(numeric, categorical) feature names of a schema, minus the label and ``drop``."""
    feats = {n: f for n, f in schema["features"].items() if n != label and n not in drop}
    numeric = [n for n, f in feats.items() if f["type"] == "numeric"]
    return numeric, [n for n in feats if n not in numeric]


def make_preprocessor(numeric: Sequence[str], categorical: Sequence[str]) -> ColumnTransformer:
    """An unfitted ColumnTransformer for these columns."""
    return ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="__missing__"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                categorical,
            ),
        ]
    )


@component(
    category="transform",
    type_name="Transform",
    inputs={"examples": rolling_window(7), "anomalies": rolling_window(7, "anomalies")},
    when=prop("anomalies", "blocking") == 0,
)
def transform(
    examples: Inputs[Examples],
    anomalies: Inputs[ExampleAnomalies],
    schema: Input[Schema],
    transform_graph: Output[TransformGraph],
    label: str = "churned",
    drop_features: list[str] | None = None,
) -> dict[str, float]:
    """Fit the preprocessing on the train split of the window's clean spans."""
    clean = clean_window(list(examples), anomalies)
    if not clean:
        raise InvalidArgumentError(
            f"every span of the window {examples.spans} is blocked by validation: nothing to fit"
        )
    numeric, categorical = feature_columns(schema.read_json(), label, drop_features or ())
    df = read_window(clean, [*numeric, *categorical])
    pre = make_preprocessor(numeric, categorical).fit(df)
    transform_graph.write_pickle(pre)
    transform_graph.set("fitted_on_spans", str([e.span for e in clean]))
    return {"rows": float(df.height)}
