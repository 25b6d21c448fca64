"""Trainer module for the TFX fixture pipelines: a one-layer Keras logistic regression.

Kept tiny so a run takes seconds. Warm starts from ``fn_args.base_model`` when the pipeline hands
one in (the latest-model resolver), and saves a serving signature over serialized tf.Examples so
TFMA (the Evaluator) can score it.
"""

from __future__ import annotations

import tensorflow as tf
import tf_keras as keras  # TF 2.16 + TFX 1.16: Keras 2 API (TF_USE_LEGACY_KERAS=1)

FEATURES = ("x1", "x2")
LABEL = "label"


def _spec(with_label: bool) -> dict:
    spec = {f: tf.io.FixedLenFeature([1], tf.float32) for f in FEATURES}
    if with_label:
        spec[LABEL] = tf.io.FixedLenFeature([1], tf.int64)
    return spec


def _dataset(files: list[str], batch: int = 32) -> tf.data.Dataset:
    ds = tf.data.TFRecordDataset(
        tf.data.Dataset.list_files(files, shuffle=False), compression_type="GZIP"
    )
    ds = ds.batch(batch).map(lambda s: tf.io.parse_example(s, _spec(True)))
    return ds.map(lambda d: ({f: d[f] for f in FEATURES}, tf.cast(d[LABEL], tf.float32)))


def _build() -> keras.Model:
    inputs = {f: keras.Input(shape=(1,), name=f) for f in FEATURES}
    x = keras.layers.Concatenate()(list(inputs.values()))
    out = keras.layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, out)
    model.compile(
        optimizer=keras.optimizers.Adam(0.1),
        loss="binary_crossentropy",
        metrics=["binary_accuracy"],
    )
    return model


def run_fn(fn_args) -> None:
    """Train a few epochs (warm started when a base model is given) and save for serving."""
    keras.utils.set_random_seed(0)
    model = _build()
    if fn_args.base_model:
        base = keras.models.load_model(fn_args.base_model)
        model.set_weights(base.get_weights())
        print(f"warm start from {fn_args.base_model}")
    model.fit(_dataset(fn_args.train_files), epochs=5, verbose=0)

    @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string, name="examples")])
    def serve(serialized):
        parsed = tf.io.parse_example(serialized, _spec(False))
        return {"outputs": model(parsed)}

    model.save(fn_args.serving_model_dir, save_format="tf", signatures={"serving_default": serve})
