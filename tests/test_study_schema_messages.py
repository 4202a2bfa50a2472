"""A study.yaml that breaks its JSON Schema gets a message a researcher can act on: the key, the value, and what
the key takes (the schema's own description), not jsonschema's "is not valid under any of the given schemas"."""

import pytest
import yaml

from conftest import DEMO
from rmstudy.contract.study import load_study
from rmstudy.errors import CohortError


def _plan(tmp_path, edit):
    raw = yaml.safe_load((DEMO / "study.yaml").read_text(encoding="utf-8"))
    edit(raw)
    p = tmp_path / "study.yaml"
    p.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return p


def _problems(path):
    with pytest.raises(CohortError) as e:
        load_study(path)
    return e.value.problems


def test_a_range_on_a_column_other_than_age_names_the_forms_population_takes(tmp_path):
    p = _plan(tmp_path, lambda raw: raw["hypotheses"][0].update(population={"age_band": {"max": 30}}))
    (prob,) = _problems(p)
    assert prob.column == "hypotheses.0.population.age_band"
    assert prob.message == "{'max': 30} is not one of the forms this key takes"
    assert prob.fix.startswith("population takes participants.csv column -> value or list of values; 'age' takes "
                               "{min, max}")
    assert "valid under any" not in str(prob)


def test_a_key_without_a_description_still_points_to_the_docs(tmp_path):
    p = _plan(tmp_path, lambda raw: raw["hypotheses"][0].update(direction="sideways"))
    (prob,) = _problems(p)
    assert prob.column == "hypotheses.0.direction"
    assert "'sideways' is not one of ['increase', 'decrease']" in prob.message
    assert prob.fix == "see docs/cohort-format.md, section 'study.yaml', for this key"


def test_the_description_found_is_the_nearest_one_above_the_error(tmp_path):
    p = _plan(tmp_path, lambda raw: (raw.update(schema_version=4), raw["hypotheses"][0].update(model="glmm")))
    (prob,) = _problems(p)
    assert prob.column == "hypotheses.0.model"
    assert prob.fix.startswith("model takes survey hypotheses: lmm (random intercept per participant")
