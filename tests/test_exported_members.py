"""The public surface is exactly ``__all__``, and every name in it is real."""

from __future__ import annotations

import normalizer


def test_all_names_exist_and_are_public() -> None:
    for name in normalizer.__all__:
        assert hasattr(normalizer, name), name
    public = {n for n in dir(normalizer) if not n.startswith("_")}
    # the submodules a user imports by name: normalizer.testing, .redis, .store, .requests
    assert public - {"testing", "redis", "store", "requests"} == set(normalizer.__all__) - {
        "__version__"
    }


def test_testing_module_surface() -> None:
    import normalizer.testing

    assert normalizer.testing.__all__ == [
        "SimulatedVendor",
        "VendorMock",
        "is_testing",
        "set_testing",
        "vendor_response",
    ]
    for name in normalizer.testing.__all__:
        assert hasattr(normalizer.testing, name)


def test_public_objects_present_as_normalizer_members() -> None:
    for name in normalizer.__all__:
        if name != "__version__":
            assert getattr(normalizer, name).__module__ == "normalizer", name


def test_redis_module_surface() -> None:
    import normalizer.redis

    assert normalizer.redis.__all__ == ["AsyncRedisState", "RedisState"]


def test_store_module_surface() -> None:
    import normalizer.store

    for name in normalizer.store.__all__:
        assert hasattr(normalizer.store, name)
    assert {"Store", "AsyncStore", "Query", "Admit", "Record"} <= set(normalizer.store.__all__)
