"""Word lists the synthetic world is built from: names with their pinyin, places, templates.

Everything here is invented or generic (common surnames, road-name patterns, chain-hotel
brands); no real person, case or address is described.
"""

from __future__ import annotations

#: Common surnames with pinyin (for the English transliteration beside some names).
SURNAMES: tuple[tuple[str, str], ...] = (
    ("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"),
    ("杨", "Yang"), ("黄", "Huang"), ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"),
    ("徐", "Xu"), ("孙", "Sun"), ("马", "Ma"), ("朱", "Zhu"), ("胡", "Hu"),
    ("郭", "Guo"), ("何", "He"), ("高", "Gao"), ("林", "Lin"), ("罗", "Luo"),
    ("郑", "Zheng"), ("梁", "Liang"), ("谢", "Xie"), ("宋", "Song"), ("唐", "Tang"),
    ("许", "Xu"), ("韩", "Han"), ("冯", "Feng"), ("邓", "Deng"), ("曹", "Cao"),
    ("彭", "Peng"), ("曾", "Zeng"), ("肖", "Xiao"), ("田", "Tian"), ("董", "Dong"),
    ("沈", "Shen"), ("潘", "Pan"), ("袁", "Yuan"), ("蔡", "Cai"), ("蒋", "Jiang"),
    ("余", "Yu"), ("于", "Yu"), ("杜", "Du"), ("叶", "Ye"), ("程", "Cheng"),
    ("魏", "Wei"), ("苏", "Su"), ("吕", "Lü"), ("丁", "Ding"), ("任", "Ren"),
    ("卢", "Lu"), ("姚", "Yao"), ("钱", "Qian"), ("汪", "Wang"), ("金", "Jin"),
    ("陆", "Lu"), ("方", "Fang"), ("俞", "Yu"), ("顾", "Gu"), ("褚", "Chu"),
)

#: Given-name characters with pinyin.
GIVEN: tuple[tuple[str, str], ...] = (
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"),
    ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"),
    ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"),
    ("明", "ming"), ("超", "chao"), ("秀", "xiu"), ("霞", "xia"), ("平", "ping"),
    ("刚", "gang"), ("桂", "gui"), ("英", "ying"), ("华", "hua"), ("建", "jian"),
    ("国", "guo"), ("文", "wen"), ("辉", "hui"), ("玲", "ling"), ("鹏", "peng"),
    ("宇", "yu"), ("浩", "hao"), ("婷", "ting"), ("雪", "xue"), ("琳", "lin"),
    ("晨", "chen"), ("欣", "xin"), ("怡", "yi"), ("佳", "jia"), ("俊", "jun"),
    ("峰", "feng"), ("斌", "bin"), ("梅", "mei"), ("红", "hong"), ("波", "bo"),
    ("海", "hai"), ("春", "chun"), ("云", "yun"), ("飞", "fei"), ("志", "zhi"),
    ("荣", "rong"), ("新", "xin"), ("丹", "dan"), ("萍", "ping"), ("凯", "kai"),
    ("瑶", "yao"), ("嘉", "jia"), ("子", "zi"), ("晓", "xiao"), ("振", "zhen"),
)

#: District name → (6-digit administrative code used in ID numbers, English name).
DISTRICTS: dict[str, tuple[str, str]] = {
    "南湖区": ("330402", "Nanhu District"),
    "秀洲区": ("330411", "Xiuzhou District"),
    "嘉善县": ("330421", "Jiashan County"),
    "海盐县": ("330424", "Haiyan County"),
    "海宁市": ("330481", "Haining City"),
    "平湖市": ("330482", "Pinghu City"),
    "桐乡市": ("330483", "Tongxiang City"),
}

ROADS: tuple[str, ...] = (
    "中山路", "解放路", "人民路", "建设路", "禾兴路", "南湖路", "东升路", "由拳路", "洪兴路",
    "秀洲路", "新塍路", "文昌路", "长水路", "环城路", "学院路", "越秀路", "庆丰路", "花园路",
    "胜利路", "城南路", "梅湾街", "月河街", "勤俭路", "紫阳街", "双溪路", "凌公塘路",
)
COMMUNITIES: tuple[str, ...] = (
    "梅湾", "南湖春晓", "江南润园", "禾兴花园", "东方丽都", "阳光城", "湖滨新村", "绿城百合",
    "金色家园", "万科城", "香樟苑", "运河人家", "锦绣江南", "书香苑", "秀水新城", "凤凰城",
    "中央公园", "南溪名苑", "翡翠湾", "蓝天花园",
)
ORG_KINDS: tuple[str, ...] = (
    "科技有限公司", "纺织有限公司", "物流有限公司", "建筑工程有限公司", "餐饮管理有限公司",
    "电子商务有限公司", "机械制造有限公司", "皮革有限公司",
)
ORG_WORDS: tuple[str, ...] = (
    "禾城", "鸿达", "瑞丰", "新华", "正泰", "恒远", "明珠", "金桥", "华越", "东方", "宏昌",
    "永盛", "天成", "嘉和", "博远", "信达",
)
PUBLIC_UNITS: tuple[str, ...] = (
    "人民医院", "第一中学", "实验小学", "街道办事处", "供电所", "汽车客运站", "人民法院",
)
HOTEL_BRANDS: tuple[str, ...] = (
    "如家酒店", "汉庭酒店", "锦江之星", "7天连锁酒店", "维也纳酒店", "全季酒店", "格林豪泰",
    "城市便捷酒店", "开元大酒店", "南湖宾馆",
)
OTHER_PLATE_PREFIXES: tuple[str, ...] = ("浙A", "浙B", "浙E", "沪A", "沪B", "苏E", "苏A", "皖A")
VEHICLE_COLORS: tuple[str, ...] = ("白", "黑", "银", "灰", "红", "蓝")
DIRECTIONS: tuple[str, ...] = ("东向西", "西向东", "南向北", "北向南")
MOBILE_PREFIXES: tuple[str, ...] = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
    "156", "157", "158", "159", "166", "177", "180", "181", "182", "183", "186", "187", "188",
    "189", "191", "198", "199",
)
WATCH_REASONS: tuple[str, ...] = (
    "涉嫌盗窃，在逃", "电信诈骗嫌疑人", "多次入室盗窃前科", "涉毒人员", "网上追逃", "重点关注人员",
    "涉嫌故意伤害",
)

#: Incident categories with description templates; {addr}, {name}, {plate} are filled in.
INCIDENTS: dict[str, tuple[str, ...]] = {
    "入室盗窃": (
        "报警人称{addr}家中被盗，门锁有撬压痕迹，丢失现金及首饰若干。",
        "{name}报称回家发现窗户被撬，笔记本电脑被盗。Back window forced, laptop missing.",
        "住户反映夜间有人翻窗入室，盗走手机两部，嫌疑人已逃离。",
    ),
    "电动车被盗": (
        "报警人称停放在{addr}楼下的电动车被盗，车型雅迪，颜色白色。",
        "{name}报称其电动自行车在小区门口被盗，已上牌照。E-bike stolen near the gate.",
        "电瓶车停在车棚内被人剪锁骑走，监控显示一名男子作案。",
    ),
    "纠纷": (
        "{addr}两名住户因停车位发生纠纷，双方情绪激动，请求民警到场。",
        "邻里纠纷，报警人{name}称楼上住户装修噪音引发争吵。",
        "商户与顾客因退款发生口角，现场有推搡。Customer dispute over a refund.",
    ),
    "交通事故": (
        "{addr}附近一辆小型轿车与电动车相撞，一人受伤，车牌{plate}。",
        "两车追尾，无人员受伤，双方对责任有争议。Rear-end collision, no injuries.",
        "一辆货车在路口转弯时刮擦行人，伤者意识清醒，已叫120。",
    ),
    "火警": (
        "{addr}一居民楼厨房起火，有浓烟冒出，119已出动。",
        "报警人称小区垃圾房着火，火势不大。Small fire in the bin store.",
    ),
    "燃气泄漏": (
        "{addr}住户闻到浓烈燃气味，报警人已关闭总阀并撤离。",
        "餐馆后厨疑似燃气泄漏，现场人员已疏散。Suspected gas leak in a restaurant kitchen.",
    ),
    "噪音扰民": (
        "{addr}有人深夜大声播放音乐，影响周边居民休息。",
        "报警人{name}称楼下KTV噪音扰民，多次交涉无果。Loud music after midnight.",
    ),
    "诈骗": (
        "{name}接到自称公检法的电话，被骗转账人民币三万元。Caller claimed to be the police.",
        "报警人网购退款被骗，对方以客服名义诱导其下载会议软件并转账。",
        "{name}称在网上兼职刷单被骗两万元，对方已失联。Online part-time job scam.",
    ),
}

#: Relative frequency of each category among background incidents.
INCIDENT_WEIGHTS: dict[str, int] = {
    "入室盗窃": 12, "电动车被盗": 18, "纠纷": 25, "交通事故": 20, "火警": 4, "燃气泄漏": 3,
    "噪音扰民": 10, "诈骗": 8,
}
