"""The ONNX face embedder against dlib's own network, on real chips and on a random-weight network."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from restyle.errors import ConfigurationError, InvalidParameter
from restyle.faces import detect_faces, dlibnet, embed_faces, embedder, models, onnxnet
from restyle.faces.embed import embed_chip, face_chip

TOLERANCE = 1e-4  # max abs difference per component


def _session(model: bytes) -> object:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _chips(image: np.ndarray) -> np.ndarray:
    faces = detect_faces(image)
    assert faces
    return np.stack([face_chip(image, face) for face in faces])


@pytest.fixture(scope="module")
def real_chips(astronaut: np.ndarray, grace_hopper: np.ndarray) -> np.ndarray:
    """Chips of the two sample portraits, plus a darker grey copy and a mirrored copy of each."""
    chips = [*_chips(astronaut), *_chips(grace_hopper)]
    grey = [np.repeat(cv2.cvtColor(c, cv2.COLOR_RGB2GRAY)[..., None] // 2, 3, axis=2) for c in chips]
    return np.stack(chips + grey + [np.ascontiguousarray(c[:, ::-1]) for c in chips])


def test_onnx_equals_dlib_on_real_chips(real_chips: np.ndarray) -> None:
    assert embedder.backend() == "onnx"
    onnx_vectors = embedder.embed_chips(real_chips, embedder="onnx")
    dlib_vectors = embedder.embed_chips(real_chips, embedder="dlib")
    assert onnx_vectors.shape == (len(real_chips), 128) and onnx_vectors.dtype == np.float64
    assert np.abs(onnx_vectors - dlib_vectors).max() < TOLERANCE
    assert np.abs(dlib_vectors).max() > 0.1  # real embeddings, not a degenerate output


def test_a_batch_equals_single_runs(real_chips: np.ndarray) -> None:
    batch = embedder.embed_chips(real_chips)
    single = np.stack([embed_chip(chip) for chip in real_chips])
    assert np.abs(batch - single).max() < 1e-5


def test_embed_faces_on_a_group(astronaut: np.ndarray, grace_hopper: np.ndarray) -> None:
    grace = cv2.resize(grace_hopper, (512, 600))[44:556]
    pair = np.ascontiguousarray(np.concatenate([astronaut, grace], axis=1))
    faces = detect_faces(pair)
    vectors = embed_faces(pair, faces)
    assert vectors.shape == (2, 128)
    for face, vector in zip(faces, vectors, strict=True):
        reference = embedder.embed_chips(face_chip(pair, face)[None], embedder="dlib")[0]
        assert np.abs(vector - reference).max() < TOLERANCE
    assert embed_faces(pair, []).shape == (0, 128)


def test_the_shipped_file_parses_as_dlib_describes_it() -> None:
    net = dlibnet.read_net(Path(models.model_path(models.RESNET)).read_bytes(), dlibnet.resnet_layout())
    assert net.size == (150, 150)
    assert net.means == pytest.approx((122.782, 117.001, 104.298), abs=1e-3)
    kinds = [layer.kind for layer in net.layers]
    assert kinds.count("con") == 29 and kinds.count("add_prev") == 14 and kinds[-1] == "fc"
    assert net.layers[-1].weights["w"].shape == (256, 128)


def test_converter_matches_dlib_on_a_random_network(tmp_path: Path) -> None:
    import dlib

    from tests.faces.dlib_format import write_net

    # the real layout with random weights, written in newer layer versions (and some batch-norm
    # layers) than the shipped file: dlib loads it, and the converted graph must agree with it
    path = tmp_path / "random_resnet.dat"
    path.write_bytes(write_net(dlibnet.resnet_layout(), seed=7))
    reference_net = dlib.face_recognition_model_v1(str(path))
    rng = np.random.default_rng(3)
    chips = rng.integers(0, 256, (3, 150, 150, 3), dtype=np.uint8)
    chips[0] = cv2.GaussianBlur(chips[0], (0, 0), 4)
    expected = np.stack([np.asarray(reference_net.compute_face_descriptor(c, 0)) for c in chips])
    got = _session(onnxnet.convert(str(path))).run(None, {"chips": chips})[0]  # type: ignore[attr-defined]
    scale = max(1.0, float(np.abs(expected).max()))
    assert np.abs(got - expected).max() < TOLERANCE * scale
    assert np.abs(expected[0] - expected[1]).max() > 1e-3  # the inputs really differ


def test_a_wrong_layout_is_a_clear_error() -> None:
    from tests.faces.dlib_format import write_net

    data = write_net(dlibnet.resnet_layout(), seed=1)
    layout = dlibnet.resnet_layout()
    layout[0] = ("con", 16, 7, 2)
    with pytest.raises(ConfigurationError, match="convolution 32 7x7/2"):
        dlibnet.read_net(data, layout)
    with pytest.raises(ConfigurationError, match="end of file"):
        dlibnet.read_net(data[:-100], dlibnet.resnet_layout())


def test_the_converted_model_is_cached_atomically(tmp_path: Path) -> None:
    source = models.model_path(models.RESNET)
    first = onnxnet.cached_model(source, tmp_path)
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].suffix == ".onnx" and files[0].read_bytes() == first
    assert onnxnet.cached_model(source, tmp_path) == first  # read back, not rebuilt
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert onnxnet.cached_model(source, blocked / "sub") == first  # unwritable cache: still works


def test_bad_chips_and_backend_names(real_chips: np.ndarray) -> None:
    with pytest.raises(InvalidParameter):
        embedder.embed_chips(real_chips[:, :100])
    with pytest.raises(InvalidParameter):
        embedder.embed_chips(real_chips, embedder="tensorflow")
    assert embedder.embed_chips(real_chips[:0]).shape == (0, 128)



def test_the_dlib_backend_can_be_chosen(real_chips: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESTYLE_FACES_EMBEDDER", "dlib")
    assert embedder.backend() == "dlib" and embedder.backend("onnx") == "onnx"
    chosen = embedder.embed_chips(real_chips[:2])
    assert np.abs(chosen - embedder.embed_chips(real_chips[:2], embedder="onnx")).max() < TOLERANCE
    monkeypatch.setenv("RESTYLE_FACES_EMBEDDER", "bogus")
    assert embedder.backend() == "onnx"
