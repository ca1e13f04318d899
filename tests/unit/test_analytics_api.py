import types

import netra.analytics as analytics


def test_every_public_name_of_the_engine_resolves_to_a_function_or_type_not_a_module():
    import netra.analytics.analyses.recommendations  # noqa: F401  (a submodule imported first)

    for name in analytics.__all__:
        assert not isinstance(getattr(analytics, name), types.ModuleType), name
    assert set(analytics.__all__) == set(analytics._WHERE)
