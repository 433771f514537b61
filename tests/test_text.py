"""The shared text rules: folding names and sorting them naturally."""

from formats.text import fold, natural_key
from models.organization import Organization, organization_name_key


def test_fold_lowers_folds_yo_and_collapses_spaces():
    assert fold("  Семёнов   ЁЛКИН ") == "семенов елкин"
    assert fold(None) == "" and fold("") == ""
    assert fold(" Ёжик\tв  тумане\n") == fold("ежик в тумане")


def test_organization_key_and_names_fold_alike():
    assert organization_name_key("МАОУ  «Школа Ёлочка»") == fold("маоу «школа елочка»")
    assert Organization(name="СОШ  Ёлкино", kind=None).name_key == "сош елкино"


def test_natural_key_sorts_numbers_as_numbers():
    names = ["СОШ № 10", "сош № 2", "Лицей № 1", "СОШ № 2а", "10 школа", "Школа"]
    assert sorted(names, key=natural_key) == ["10 школа", "Лицей № 1", "сош № 2", "СОШ № 2а",
                                              "СОШ № 10", "Школа"]


def test_natural_key_never_mixes_types_and_folds_yo():
    # a name starting with a number next to one starting with text used to compare int with str
    assert sorted(["Ёлочка 3", "5 лицей", "елочка 2"], key=natural_key) == [
        "5 лицей", "елочка 2", "Ёлочка 3"]
    assert natural_key("") == ("",)
