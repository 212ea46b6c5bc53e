"""Who the synthetic customers are: provinces and cities, company names, GB/T 4754 industry codes
and 统一社会信用代码 (USCC) built the way registration authorities build them."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from lendvalue.contract import GBT4754_SECTIONS, USCC_ALPHABET, USCC_WEIGHTS
from lendvalue.sample.dates import IntArray

StrArray = npt.NDArray[np.str_]

# code → (short name, weight, ((city, 4-digit GB/T 2260 prefix), ...)); weights favour the coast
PROVINCE_TABLE: dict[str, tuple[str, float, tuple[tuple[str, str], ...]]] = {
    "110000": ("北京", 6.0, (("北京", "1101"),)),
    "120000": ("天津", 3.0, (("天津", "1201"),)),
    "130000": ("河北", 3.0, (("石家庄", "1301"), ("唐山", "1302"), ("保定", "1306"))),
    "140000": ("山西", 1.2, (("太原", "1401"), ("大同", "1402"))),
    "150000": ("内蒙古", 0.8, (("呼和浩特", "1501"), ("包头", "1502"), ("鄂尔多斯", "1506"))),
    "210000": ("辽宁", 2.0, (("沈阳", "2101"), ("大连", "2102"))),
    "220000": ("吉林", 0.8, (("长春", "2201"), ("吉林", "2202"))),
    "230000": ("黑龙江", 0.8, (("哈尔滨", "2301"), ("大庆", "2306"))),
    "310000": ("上海", 7.0, (("上海", "3101"),)),
    "320000": (
        "江苏",
        12.0,
        (("南京", "3201"), ("无锡", "3202"), ("常州", "3204"), ("苏州", "3205"), ("南通", "3206")),
    ),
    "330000": (
        "浙江",
        11.0,
        (("杭州", "3301"), ("宁波", "3302"), ("温州", "3303"), ("绍兴", "3306"), ("台州", "3310")),
    ),
    "340000": ("安徽", 3.0, (("合肥", "3401"), ("芜湖", "3402"))),
    "350000": ("福建", 5.0, (("福州", "3501"), ("厦门", "3502"), ("泉州", "3505"))),
    "360000": ("江西", 1.8, (("南昌", "3601"), ("赣州", "3607"))),
    "370000": (
        "山东",
        7.0,
        (("济南", "3701"), ("青岛", "3702"), ("烟台", "3706"), ("潍坊", "3707")),
    ),
    "410000": ("河南", 3.0, (("郑州", "4101"), ("洛阳", "4103"))),
    "420000": ("湖北", 3.0, (("武汉", "4201"), ("宜昌", "4205"), ("襄阳", "4206"))),
    "430000": ("湖南", 2.5, (("长沙", "4301"), ("株洲", "4302"))),
    "440000": (
        "广东",
        14.0,
        (("广州", "4401"), ("深圳", "4403"), ("珠海", "4404"), ("佛山", "4406"), ("东莞", "4419")),
    ),
    "450000": ("广西", 1.5, (("南宁", "4501"), ("柳州", "4502"))),
    "460000": ("海南", 0.6, (("海口", "4601"), ("三亚", "4602"))),
    "500000": ("重庆", 2.0, (("重庆", "5001"),)),
    "510000": ("四川", 3.5, (("成都", "5101"), ("绵阳", "5107"))),
    "520000": ("贵州", 0.8, (("贵阳", "5201"), ("遵义", "5203"))),
    "530000": ("云南", 1.0, (("昆明", "5301"),)),
    "540000": ("西藏", 0.1, (("拉萨", "5401"),)),
    "610000": ("陕西", 1.8, (("西安", "6101"), ("宝鸡", "6103"))),
    "620000": ("甘肃", 0.5, (("兰州", "6201"),)),
    "630000": ("青海", 0.2, (("西宁", "6301"),)),
    "640000": ("宁夏", 0.3, (("银川", "6401"),)),
    "650000": ("新疆", 0.6, (("乌鲁木齐", "6501"),)),
}

_TRADE_NAMES_TEXT = (
    "恒达 华兴 鑫源 宏图 金泰 瑞丰 永盛 中联 天成 昌隆 海翔 东升 新源 博远 嘉禾 宏达 盛世 鼎新 "
    "汇通 正泰 天润 凯旋 金桥 华盛 长城 卓越 远航 同创 信达 万通 德润 昊天 鸿运 兴业 合力 富源 "
    "安泰 泰和 恒通 华美 宇通 汇泽 锦程 明珠 银河 国瑞 佳利 晨光 永兴 恒信 天宇 龙腾 旭日 荣盛 "
    "中科 华远 三友 福润 百川 宝丰 利民 顺发 和盛 康达 久安 大通 金鼎 弘毅 科华 启明 润泽 星辰 "
    "致远 腾飞 华阳 立信 宏业 伟业 广源 鑫隆 众诚 恒昌 永泰 瑞华 海峰 中天 金诚 嘉盛 北辰 京华"
)
TRADE_NAMES = tuple(_TRADE_NAMES_TEXT.split())
"""Two-character trade names (字号)."""

SECTION_WEIGHTS = {
    "A": 2.0, "B": 2.0, "C": 36.0, "D": 3.0, "E": 10.0, "F": 18.0, "G": 6.0, "H": 2.0, "I": 5.0,
    "J": 1.0, "K": 4.0, "L": 6.0, "M": 3.0, "N": 1.0, "O": 0.5, "P": 0.2, "Q": 0.3, "R": 0.5,
}  # fmt: skip
"""GB/T 4754 sections of corporate borrowers; public administration (S) and international
organisations (T) borrow from no commercial bank."""

SECTION_WORDS = {
    "A": ("农业", "牧业", "渔业", "林业"),
    "B": ("矿业", "煤业", "石材"),
    "C": ("机械制造", "电子科技", "化工", "纺织", "新材料", "汽车零部件", "食品", "医药", "钢铁"),
    "D": ("能源", "电力", "燃气", "水务"),
    "E": ("建设工程", "建筑", "路桥工程", "装饰工程"),
    "F": ("贸易", "商贸", "供应链管理", "进出口", "物资"),
    "G": ("物流", "运输", "航运", "仓储"),
    "H": ("酒店管理", "餐饮管理"),
    "I": ("信息技术", "软件", "网络科技", "数据服务"),
    "J": ("投资", "融资担保"),
    "K": ("房地产开发", "置业", "物业服务"),
    "L": ("租赁", "商务咨询", "投资管理", "人力资源"),
    "M": ("检测技术", "设计研究", "工程技术"),
    "N": ("环保科技", "水利工程", "园林"),
    "O": ("家政服务", "汽车维修"),
    "P": ("教育科技",),
    "Q": ("医疗管理", "健康科技"),
    "R": ("文化传媒", "体育发展", "影视"),
}

SHARE_COMPANY_BY_SIZE = (0.7, 0.3, 0.1, 0.02)
"""Chance that a company of size large/medium/small/micro is a 股份有限公司."""

GB11714_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
ORG_CODE_MULTIPLIER = 48_271
"""Odd and not a multiple of 5, hence invertible modulo 10^8: distinct serials give distinct
organisation codes, so USCCs never repeat."""
ORG_CODE_LETTERS = "ABCDEFGHJK"


def choose(rng: np.random.Generator, options: StrArray, n: int) -> StrArray:
    """``n`` uniform draws from ``options``."""
    out: StrArray = options[rng.integers(0, len(options), n)]
    return out


def sample_regions(rng: np.random.Generator, n: int) -> tuple[StrArray, StrArray, StrArray]:
    """Province codes, admin-division codes (6 digits) and the name prefix (province or city)."""
    codes = np.array(list(PROVINCE_TABLE), dtype=np.str_)
    weights = np.array([v[1] for v in PROVINCE_TABLE.values()])
    pick = rng.choice(len(codes), size=n, p=weights / weights.sum())
    region = codes[pick]
    admin = np.empty(n, dtype="<U6")
    prefix = np.empty(n, dtype="<U8")
    use_city = rng.random(n) < 0.5
    district = rng.integers(1, 13, n)
    for i, (short, _, cities) in enumerate(PROVINCE_TABLE.values()):
        rows = np.flatnonzero(pick == i)
        if rows.size == 0:
            continue
        c = rng.integers(0, len(cities), rows.size)
        city_names = np.array([name for name, _ in cities])[c]
        city_codes = np.array([code for _, code in cities])[c]
        admin[rows] = np.char.add(city_codes, np.char.zfill(district[rows].astype(str), 2))
        prefix[rows] = np.where(use_city[rows], city_names, short)
    return region, admin, prefix


def sample_industries(rng: np.random.Generator, n: int) -> tuple[StrArray, IntArray, StrArray]:
    """Section letters, divisions and 4-digit GB/T 4754-2017 class codes (``C3611``), each
    division inside its section."""
    letters = np.array(list(SECTION_WEIGHTS), dtype=np.str_)
    weights = np.array(list(SECTION_WEIGHTS.values()))
    section = letters[rng.choice(len(letters), size=n, p=weights / weights.sum())]
    first = np.array([GBT4754_SECTIONS[s][0] for s in letters])
    last = np.array([GBT4754_SECTIONS[s][1] for s in letters])
    idx = np.searchsorted(letters, section)
    division = (first[idx] + np.floor(rng.random(n) * (last[idx] - first[idx] + 1))).astype(
        np.int64
    )
    group = rng.integers(1, 7, n)
    klass = rng.integers(1, 10, n)
    code = np.char.add(
        np.char.add(section, np.char.zfill(division.astype(str), 2)),
        np.char.add(group.astype(str), klass.astype(str)),
    )
    return section, division, code


def company_names(
    rng: np.random.Generator, prefix: StrArray, section: StrArray, size: IntArray
) -> StrArray:
    """Names like 苏州恒达机械制造有限公司: place + trade name + industry word + legal form."""
    n = len(prefix)
    trade = choose(rng, np.array(TRADE_NAMES), n)
    word = np.empty(n, dtype="<U8")
    for letter, words in SECTION_WORDS.items():
        rows = np.flatnonzero(section == letter)
        if rows.size:
            word[rows] = choose(rng, np.array(words), rows.size)
    share = rng.random(n) < np.asarray(SHARE_COMPANY_BY_SIZE)[size]
    form = np.where(share, "股份有限公司", "有限公司")
    out: StrArray = np.char.add(np.char.add(np.char.add(prefix, trade), word), form)
    return out


def _values_to_chars(values: npt.NDArray[np.int64], alphabet: str) -> npt.NDArray[np.bytes_]:
    table = np.frombuffer(alphabet.encode("ascii"), dtype="S1")
    out: npt.NDArray[np.bytes_] = table[values]
    return out


def uscc_codes(serial: IntArray, admin: StrArray) -> StrArray:
    """统一社会信用代码 for distinct ``serial`` numbers (< 10^8) and 6-digit admin codes.

    Layout (GB 32100-2015): ``9`` (registered by 市场监管/工商) + ``1`` (enterprise) + the admin
    division + the 9-character organisation code (GB 11714-1997: 8 characters and a check
    character, :math:`c_9 = 11 - \\sum_{i=1}^{8} v_i w_i \\bmod 11` with weights 3, 7, 9, 10, 5,
    8, 4, 2; 10 → ``X`` and 11 → ``0``) + the USCC check character of
    :func:`lendvalue.contract.uscc_check_char`.
    """
    n = len(serial)
    org = (np.asarray(serial, dtype=np.int64) * ORG_CODE_MULTIPLIER + 12_345) % 10**8
    digits = (org[:, None] // 10 ** np.arange(7, -1, -1)) % 10
    # one serial in nine gets a letter in front, as organisation codes issued later do
    lettered = np.asarray(serial) % 9 == 4
    gb_values = digits.copy()
    gb_values[lettered, 0] = (
        10
        + np.array([ord(ch) - ord("A") for ch in ORG_CODE_LETTERS], dtype=np.int64)[
            digits[lettered, 0]
        ]
    )
    remainder = (gb_values * GB11714_WEIGHTS).sum(axis=1) % 11
    check9 = 11 - remainder  # 1..11
    uscc_alpha_index = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
    # values of the 17 characters in the USCC alphabet
    values = np.empty((n, 17), dtype=np.int64)
    values[:, 0] = 9
    values[:, 1] = 1
    admin_digits = np.frombuffer(admin.astype("S6").tobytes(), dtype=np.uint8).reshape(n, 6)
    values[:, 2:8] = admin_digits.astype(np.int64) - ord("0")
    values[:, 8:16] = digits
    letter_index = np.array([uscc_alpha_index[ch] for ch in ORG_CODE_LETTERS], dtype=np.int64)
    values[lettered, 8] = letter_index[digits[lettered, 0]]
    values[:, 16] = np.where(check9 == 10, uscc_alpha_index["X"], np.where(check9 == 11, 0, check9))
    weights = np.asarray(USCC_WEIGHTS, dtype=np.int64)
    check18 = (31 - (values * weights).sum(axis=1) % 31) % 31
    full = np.concatenate([values, check18[:, None]], axis=1)
    chars = _values_to_chars(full, USCC_ALPHABET)
    out: StrArray = chars.view("S18").ravel().astype(np.str_)
    return out
