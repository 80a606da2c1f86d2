"""The Simplified Chinese UI strings (English source → 简体中文), filled into the .ts file."""

from __future__ import annotations

ZH_CN = {
    "&Go": "转到(&G)", "&Help": "帮助(&H)", "&View": "视图(&V)", "&Workspace": "工作区(&W)",
    "?": "?", "Acknowledge": "确认收到", "Acknowledged": "已确认", "Alert": "预警",
    "Alerts": "预警", "Assign selected units": "派出所选警力", "Cancel": "取消",
    "Candidates": "候选人", "Category": "类别", "Colour by centrality": "按中心度着色",
    "Confirm": "确认", "Dashboards": "统计看板", "Description / error": "说明 / 错误",
    "Dispatch board": "调度台", "District": "辖区",
    "Double-click a node to expand it; right-click for more.": "双击节点展开；右键查看更多操作。",
    "Expand": "展开", "Expand by link type": "按关系类型展开", "Faces": "人像比对",
    "Find path to…": "查找路径至…", "Formats": "格式", "Forward ▶": "前进 ▶", "Hide": "隐藏",
    "Incident": "警情", "Incident queue (most urgent first)": "警情队列（最紧急在前）",
    "Ingest a file…": "导入文件…", "Ingest file…": "导入文件…", "Keyboard shortcuts": "快捷键",
    "Kind": "种类", "Language": "语言", "Link chart": "关系图谱", "Map": "地图",
    "Navigation": "导航", "Open in graph": "在图谱中打开", "Open photo…": "打开照片…",
    "Open record": "打开记录", "Paste": "粘贴", "Plugins": "数据源插件",
    "Pop out the current view": "弹出当前视图", "Position": "位置", "Quit": "退出",
    "Recommend": "推荐警力", "Recommended units": "推荐警力", "Record": "记录详情",
    "Refresh": "刷新", "Reject": "否定", "Release": "释放", "Reload": "重新加载",
    "Reset layout": "恢复默认布局", "Score": "得分", "Search": "检索",
    "Search all sources (Ctrl+K), e.g. 入室盗窃 source:incidents":
        "检索全部数据源（Ctrl+K），例如 入室盗窃 source:incidents",
    "Search gallery": "比对人像库", "Search its records": "检索相关记录",
    "Select a search result, a marker or a node to see its record.":
        "选择一条检索结果、地图标记或图谱节点以查看记录。",
    "Select a source to see where it came from and its errors.":
        "选择一个数据源，查看其来源和错误信息。",
    "Show in Map view": "在地图视图中显示", "building the map …": "正在生成地图 …",
    "The Map view shows every layer; pop it out (Ctrl+Shift+D) to keep it beside the board":
        "地图视图显示全部图层；可将其弹出（Ctrl+Shift+D）放在调度台旁边",
    "Severity": "级别", "Show communities": "显示社群", "Show everything": "显示全部",
    "Source": "来源", "Status": "状态", "Subject": "对象", "Summary": "摘要",
    "The language changes when the console is restarted.": "重新启动控制台后语言设置生效。",
    "Time": "时间", "Timeline": "时间轴", "Title": "标题",
    "Toggle dark / light theme": "切换深色 / 浅色主题", "Type": "类型",
    "Type a query and press Enter.": "输入检索条件后按回车。", "Unit": "警力", "Units": "警力",
    "Units by status": "警力状态", "Unpin": "取消固定", "Use chart selection": "使用图谱选择",
    "Version": "版本", "Waiting": "等待时长", "backend: …": "检索后端：…",
    "case number (required)": "案件编号（必填）",
    "entity id, plate, phone or ID number — Enter to chart":
        "实体编号、车牌、电话或身份证号 — 回车生成图谱",
    "entity ids (comma separated), or select nodes in the link chart":
        "实体编号（逗号分隔），或在关系图谱中选择节点",
    "hotspots: incidents by district, 14 days vs the 14 before":
        "热点：各辖区警情，近14天与前14天对比",
    "indicator field": "指标字段", "last 30 days vs a year before (%)": "近30天同比（%）",
    "loading the board …": "正在加载调度台 …",
    "note for the acknowledgement (what was done)": "确认备注（已采取的措施）",
    "purpose of this search (required)": "比对用途（必填）", "query syntax": "检索语法",
    "records per month by category": "各类别每月记录数", "review note (why)": "复核备注（理由）",
    "set status…": "设置状态…", "sound": "声音", "superbrain alerts": "superbrain 预警",
    "time-wheel: records by weekday × hour (local time)": "时间轮：按星期 × 小时统计（本地时间）",
    "top places (records by district)": "高发地点（按辖区记录数）", "◀ Back": "◀ 后退", "⚠ ": "⚠ ",
    "superbrain — no workspace yet": "superbrain — 尚无工作区",
    "There is no workspace at {path} yet.\n\nBuild the demo workspace there: seven synthetic "
    "sources of 嘉兴 (residents, 110 incidents, plate reads, calls, e-bike tags, hotels, a "
    "watchlist) with planted suspect networks, 40 police units and a live shift of incidents. "
    "It takes about a minute.":
        "{path} 处还没有工作区。\n\n可在此生成演示工作区：嘉兴的七个模拟数据源（人口、110警情、"
        "卡口过车、通话、电动车标签、旅馆、布控名单），含预置的嫌疑人关系网、40个警力单元和"
        "一个正在进行的值班警情。约需一分钟。",
    "Build the demo workspace": "生成演示工作区", "Open a workspace folder…": "打开工作区文件夹…",
    "Building the demo workspace…": "正在生成演示工作区…",
    "Cancelling after the current batch…": "当前批次完成后取消…",
    "Cancelled. Build again to finish it (what is done is kept), or open another folder.":
        "已取消。再次生成可继续完成（已完成部分会保留），或打开其他文件夹。",
    "The demo build failed (exit code {code}); its output is above.":
        "演示工作区生成失败（退出码 {code}），输出见上方。",
    "Open a workspace folder": "打开工作区文件夹",
    "{path} is not a superbrain workspace (it has no superbrain.toml).":
        "{path} 不是 superbrain 工作区（没有 superbrain.toml）。",
    "alerts: {error}": "预警：{error}",
    "{n} to acknowledge · {shown} most recent shown": "{n} 条待确认 · 显示最近 {shown} 条",
    "not acknowledged: {error}": "未确认：{error}",
    "{n} records in {sources} sources": "{sources} 个数据源共 {n} 条记录",
    "board: {error}": "调度台：{error}",
    "Open incidents {open}   |   units: {units}   |   unacknowledged alerts {alerts}":
        "未结警情 {open}   |   警力：{units}   |   未确认预警 {alerts}",
    "{n} faces found; click one to search it": "发现 {n} 张人脸；点击其中一张进行比对",
    "{n} face found": "发现 {n} 张人脸",
    "{n} candidates, {above} above the threshold — leads only; confirm or reject each "
    "(audited)": "{n} 个候选，{above} 个高于阈值 — 仅为线索；请逐一确认或否定（已审计）",
    "candidate #{rank} {decision} (audited)": "候选 #{rank} {decision}（已审计）",
    "graph: {error}": "图谱：{error}", "cancelled": "已取消",
    "{entities} entities, {links} links, {new} new":
        "{entities} 个实体，{links} 条关系，新增 {new}",
    "path of {n} hops: ": "{n} 跳路径：", "{n} communities (Louvain)": "{n} 个社群（Louvain）",
    "saved {path}": "已保存 {path}", "export failed: {error}": "导出失败：{error}",
    "backend: {state}": "检索后端：{state}", "backend: error: {error}": "检索后端：错误：{error}",
    "UI stall {ms} ms": "界面卡顿 {ms} 毫秒",
    "{ok} sources loaded, {broken} broken": "已加载 {ok} 个数据源，{broken} 个损坏",
    "ingesting {file} with {source} …": "正在用 {source} 导入 {file} …",
    "ingest failed: {error}": "导入失败：{error}",
    "record {uid} is not in this workspace": "记录 {uid} 不在此工作区中",
    "{n} hits in {ms} ms": "{n} 条命中，用时 {ms} 毫秒", " — {n} loaded": " — 已加载 {n}",
    "{n} records about {entities} entities; click a point to open its record":
        "{entities} 个实体相关记录 {n} 条；点击数据点打开记录",
    "depth ": "深度 ", "colour by type": "按类型着色", "colour by centrality": "按中心度着色",
    "show communities": "显示社群", "Clear": "清空", "Unhide all": "全部显示", "PNG…": "PNG…",
    "GraphML…": "GraphML…", "workspace: {name}": "工作区：{name}",
    "user: {user} ({role})": "用户：{user}（{role}）", "location": "位置", "Entities": "实体",
    "Links": "关系", "from": "来源", "relevance": "相关度", "newest first": "最新优先",
    "oldest first": "最早优先", "Graph": "图谱",
    "all time": "全部时间",
    "Searches cover the last {n} days unless you pick days in the 'day' facet or tick this "
    "([search] default_window_days)":
        "检索默认只覆盖最近 {n} 天；在“day”分面中选择日期或勾选此项可扩大范围"
        "（[search] default_window_days）",
    " in the last {n} days (tick 'all time' for older records)":
        "（最近 {n} 天；勾选“全部时间”可检索更早的记录）",
    # issue #15: the console's bug fixes
    "select an alert that is not acknowledged yet": "请选择一条尚未确认的预警",
    "{n} acknowledged": "已确认 {n} 条", "Not searched: {missing}.": "未检索：{missing}。",
    "open, drop or paste a photo with a face": "请打开、拖入或粘贴一张含人脸的照片",
    "click the face to search (the photo holds several)": "照片中有多张人脸，请点击要比对的一张",
    "enter the case number": "请填写案件编号", "state the purpose of the search": "请填写检索事由",
    "{n} entity": "{n} 个实体", "{n} entities": "{n} 个实体", "{n} link": "{n} 条关系",
    "{n} links": "{n} 条关系", "{n} new": "新增 {n}", "{n} link on the chart": "图上 {n} 条关系",
    "{n} links on the chart": "图上 {n} 条关系", "{n} incident": "{n} 起警情",
    "{n} incidents": "{n} 起警情", "{n} unit": "{n} 个警力", "{n} units": "{n} 个警力",
    "{n} located record": "{n} 条定位记录", "{n} located records": "{n} 条定位记录",
    "{n} track": "{n} 条轨迹", "{n} tracks": "{n} 条轨迹", "hotspots": "热点",
    "{n} geofence": "{n} 个电子围栏", "{n} geofences": "{n} 个电子围栏",
    "entity {id} is not in this workspace": "实体 {id} 不在此工作区中",
    "Link chart, map, timeline, search": "关系图谱、地图、时间轴、检索",
    "Records ({shown} of {total})": "记录（显示 {shown} / 共 {total}）",
    "critical": "特急", "high": "高", "medium": "中", "low": "低", "info": "提示",
    "Select an incident in the queue.": "请在队列中选择一起警情。",
    "show candidates below the threshold": "显示低于阈值的候选人",
    "Candidates — threshold {t}: {fm} on LFW; gallery of {n} faces":
        "候选人 — 阈值 {t}：LFW 测得 {fm}；人像库共 {n} 张人脸",
    " · {hidden} below the threshold hidden": " · 已隐藏 {hidden} 名低于阈值的候选人",
    "below the threshold: not named": "低于阈值：不显示身份",
    "✔ confirmed before": "✔ 此前已确认", "✖ rejected before": "✖ 此前已否定",
    "false-match rate {rate} (sample size unknown)": "误识率 {rate}（样本量未知）",
    "{m} of {n} impostor pairs": "{n} 对异人样本中误识 {m} 对",
    "false matches: {m} of {n} impostor pairs ({rate})": "误识：{n} 对异人样本中 {m} 对（{rate}）",
    "colour and size: PageRank (red = most central)": "颜色和大小：PageRank（红色最核心）",
    "colour: community (Louvain)": "颜色：社群（Louvain）",
    "Board mode (full screen)": "调度大屏模式（全屏）", "Restart now": "立即重启",
    "Later": "稍后", "could not restart: start the console again": "无法重启：请重新启动控制台",
    "source": "来源", "type": "类型", "category": "类别", "district": "辖区", "day": "日期",
    "Distance": "距离", "ETA": "预计到达",
    "Investigative lead only: a face match is not an identification. A trained examiner must "
    "confirm or reject each candidate; nothing is done automatically.":
        "仅为侦查线索：人像比对结果不是身份认定。每个候选人须由经过培训的比对人员确认或否定；"
        "系统不会自动采取任何措施。",
    "analyst": "分析员", "commander": "指挥员", "supervisor": "主管", "administrator": "管理员",
    "Open, drop or paste (Ctrl+V) a photo": "打开、拖入或粘贴（Ctrl+V）一张照片",
    "Undo": "撤销", "Undo the last chart edit (Ctrl+Z)": "撤销上一步图谱操作（Ctrl+Z）",
    "Redo": "重做", "Redo (Ctrl+Shift+Z)": "重做（Ctrl+Shift+Z）", "Pin": "固定",
    "Find path": "查找路径",
    "or search the workspace: plate, phone, name …": "或检索工作区：车牌、电话、姓名 …",
    "Path from {source} to:": "从 {source} 到：",
    "Do not pass through (hubs):": "不经过（枢纽类型）：",
    "Leave out weak link types:": "排除弱关系类型：",
    "Moving together": "同行分析", "Moving together…": "同行分析…",
    "entity id, plate or phone": "实体编号、车牌或电话", " s apart at most": " 秒内",
    "at least ": "至少 ", " meetings": " 次相遇", "Find": "查找", "Add to chart": "加入图谱",
    "Entity": "实体", "Meetings": "相遇次数", "Places": "地点数", "Days": "天数",
    "Joint reads": "同时过车", "enter an entity first": "请先输入实体",
    "not found: {error}": "未找到：{error}", "searching …": "正在检索 …",
    "{n} entities moved with {entity}": "{n} 个实体与 {entity} 同行",
    "adding {n} entities …": "正在加入 {n} 个实体 …",
    "{early} earlier and {late} later records lie far outside and are drawn at the edges (▶ ◀)":
        "另有较早 {early} 条、较晚 {late} 条记录远在主要时段之外，画在两端（▶ ◀）",
    "Add": "加入",
    "Add the typed entity to this chart (Shift+Enter); Enter starts a new chart":
        "将输入的实体加入当前图谱（Shift+Enter）；回车则新建图谱",
    "incidents": "警情", "units": "警力", "records": "记录", "tracks": "轨迹",
    "geofences": "电子围栏", "basemap": "底图", "places": "地点", "streets": "街道",
    "Incidents": "警情", "Units available": "警力 空闲", "busy": "忙碌",
    "(position stale)": "（位置过期）", "no located records": "没有带坐标的记录",
    "offline basemap: streets and places (names as you zoom in)":
        "离线底图：街道与地点（放大后显示名称）",
    "tiles": "瓦片底图",
    "offline basemap: district outlines": "离线底图：辖区轮廓",
    "offline: coordinate grid (no district outlines installed)": "离线：坐标网格（未安装辖区轮廓）",
}

# the Cases dock (console/cases_panel.py)
ZH_CN.update({
    "Cases": "案件", "New case…": "新建案件…", "New case": "新建案件",
    "Case number (e.g. 2026-JX-0117):": "案件编号（例如 2026-JX-0117）：", "Title:": "标题：",
    "Open": "打开", "Save": "保存", "Save as…": "另存为…", "Duplicate…": "复制…",
    "Group selected…": "将所选编组…", "Picture…": "导出图片…", "Charts": "图谱",
    "note — @type:key links an entity": "笔记 — 用 @类型:键 关联实体", "Add note": "添加笔记",
    "Notes": "笔记", "Pin selected record": "固定所选记录", "Pinned evidence": "固定的证据",
    "Dossier…": "生成卷宗…", "Export case…": "导出案件…", "Import case…": "导入案件…",
    "Save chart as": "图谱另存为", "Chart name:": "图谱名称：", "Duplicate chart": "复制图谱",
    "New name:": "新名称：", "Chart picture": "图谱图片", "Group": "编组",
    "Group name:": "编组名称：",
    "Unsaved chart": "图谱未保存",
    "The link chart has changes that are not saved in the case. Save them?":
        "关系图谱有尚未保存到案件中的修改。是否保存？",
    "Write the dossier": "生成卷宗", "Export case": "导出案件", "Import case": "导入案件",
    "Notes in case {case}": "案件 {case} 的笔记",
    "case file written: {file}": "案件文件已写入：{file}",
    "dossier written: {file} (sha256 {sha})": "卷宗已写入：{file}（sha256 {sha}）",
    "group {name}: {n} entities (save the chart to keep it)":
        "编组 {name}：{n} 个实体（保存图谱以保留）",
    "opened {name} (version {v})": "已打开 {name}（版本 {v}）",
    "saved {name} (version {v})": "已保存 {name}（版本 {v}）",
    "picture written: {file}": "图片已写入：{file}",
    "choose a case first": "请先选择案件",
    "open or save a chart of the case first": "请先打开或保存本案的图谱",
    "select a record first": "请先选择一条记录",
    "select entities on the chart first": "请先在图谱上选择实体",
    "{classification} · {status} · you are {role} · members: {members}":
        "{classification} · {status} · 您的角色：{role} · 成员：{members}",
    "{n} links were added to the data since this chart was saved; "
    "expand the chart to bring them in.":
        "自该图谱保存以来数据中新增了 {n} 条关系；展开图谱即可纳入。",
    "{user} saved this chart (version {v}); reopen it to see their changes":
        "{user} 保存了该图谱（版本 {v}）；重新打开即可看到其修改",
    "{user}: {kind}": "{user}：{kind}", "{what}: {error}": "{what}：{error}",
    "— no case —": "— 未选案件 —", "on record {id}": "关于记录 {id}", "on the case": "关于本案",
    "on {id}": "关于 {id}",
    # what failed, named in "{what}: {error}"
    "cases": "案件列表", "charts": "图谱列表", "dossier": "生成卷宗", "duplicate": "复制",
    "export": "导出", "import": "导入", "new case": "新建案件", "note": "笔记", "notes": "笔记列表",
    "open case": "打开案件", "open chart": "打开图谱", "picture": "导出图片", "pin": "固定",
    "pins": "固定列表", "save chart": "保存图谱", "updates": "更新",
    "not available in client mode: run `superbrain cases dossier|export|import … -w centre.toml` "
    "on the server":
        "客户端模式下不可用：请在服务器上运行 "
        "`superbrain cases dossier|export|import … -w centre.toml`",
})

# notes on the Map view and pinning from the views (issue #17)
ZH_CN.update({
    "saved search “{query}”: {then} hits when pinned, {now} now":
        "保存的检索“{query}”：固定时 {then} 条命中，现在 {now} 条",
    "face lead {title}: similarity {s}, threshold {t} (false-match rate {fmr}); "
    "review: {review}{by}":
        "人脸线索 {title}：相似度 {s}，阈值 {t}（误匹配率 {fmr}）；复核：{review}{by}",
    "not reviewed": "未复核", "confirmed": "已确认", "rejected": "已否定",
    " by {user}": "（{user}）",
    "co-occurrence {title}: {n} entities moved together": "伴随分析 {title}：{n} 个实体同行",
    "record {title} ({ref})": "记录 {title}（{ref}）",
    "pinned by {user}, {when}": "{user} 固定于 {when}",
    "notes on the map": "地图上的笔记",
    "choose a case in the Cases dock first, then right-click the map to note a place":
        "请先在“案件”面板中选择案件，再在地图上右键为该地点添加笔记",
    "Note on this place": "为此地点添加笔记",
    "Note at {lat}, {lon} in case {case} (@type:key links an entity):":
        "案件 {case} 中位于 {lat}, {lon} 的笔记（@类型:键 可关联实体）：",
    "note added on {lat}, {lon}": "已在 {lat}, {lon} 添加笔记",
    "choose a case in the Cases dock first, then pin": "请先在“案件”面板中选择案件，再固定",
    "pinned to {case}: {title}": "已固定到 {case}：{title}",
    "Pin to case": "固定到案件",
    "pin this result to the case open in the Cases dock": "将此结果固定到“案件”面板中打开的案件",
    "Pin lead to case": "将线索固定到案件",
    "pin this candidate, with its similarity, the threshold, its false-match rate and its "
    "review state, to the case the search was made for":
        "将此候选（含相似度、阈值、误匹配率和复核状态）固定到本次检索所属的案件",
    "pinning candidate #{rank} to case {case} …": "正在将候选 #{rank} 固定到案件 {case} …",
    "candidate #{rank} pinned to case {case} as a lead (audited)":
        "候选 #{rank} 已作为线索固定到案件 {case}（已审计）",
    "case notes": "案件笔记", "on": "对象：",
    "Pin search": "固定检索",
    "pin this query to the case open in the Cases dock, with its hit count now (the case "
    "shows the count when pinned and now; facet filters are not part of it)":
        "将此检索式固定到“案件”面板中打开的案件，并记录当前命中数（案件中显示固定时与现在的命中数；"
        "分面筛选不包含在内）",
})

# the Identities tab (console/resolution_panel.py)
ZH_CN.update({
    "Identities": "身份核验", "Person A": "人员 A", "Person B": "人员 B", "Not sure": "不确定",
    "Field": "字段", "Record A": "记录 A", "Record B": "记录 B", "Level": "相符程度",
    "Weight": "权重", "Select a pair to compare the two records.": "选择一对记录进行比对。",
    "Run matching": "运行匹配", "Accept: same person": "接受：同一人",
    "Reject: different people": "否定：不同的人", "Split…": "拆分…", "Split": "拆分",
    "Entity to split off (e.g. person:…):": "要拆分出的实体（例如 person:…）：",
    "{n} pairs waiting for review": "{n} 对待核验", "matching persons …": "正在匹配人员 …",
    "marked 'not sure' by {user}": "{user} 标记为“不确定”",
    "one cluster of {n} records; weakest link {a} ≈ {b} ({s})":
        "同一聚类共 {n} 条记录；最弱关联 {a} ≈ {b}（{s}）",
})

# the Evaluation tab (console/evaluation_panel.py)
ZH_CN.update({
    "Evaluation": "考核评估", "All districts": "全市", "Indicator": "指标", "Month": "月份",
    "higher is better": "越高越好", "lower is better": "越低越好", "better": "改善",
    "worse": "变差", "computing the indicators …": "正在计算指标 …",
    "{value} {unit}; a year before: {previous} {unit}; change {change} {verdict}; sample {n}":
        "{value} {unit}；去年同期：{previous} {unit}；变化 {change} {verdict}；样本 {n}",
    "{month} against {before} · months in {zone} · indicators: {source}":
        "{month} 同比 {before} · 月份按 {zone} 计 · 指标：{source}",
    "the workspace's own": "本工作区自定义", "the shipped set": "系统默认",
    "{indicator} ({unit}), last {n} months": "{indicator}（{unit}），近 {n} 个月",
})

# the dispatch board's incident follow-up (issue #20: feedback, photos, rating)
ZH_CN.update({
    "Closed incidents (newest first)": "已结束警情（最新在前）",
    "resolved": "已处置", "referred": "已移交", "no trace": "未发现", "false alarm": "误报",
    "other": "其他", "{n} photo(s)": "{n} 张照片",
    "Feedback from {unit} ({account}), {time}: {outcome}":
        "{unit}（{account}）处置反馈，{time}：{outcome}",
    "Citizen report {code}: not rated yet": "市民上报 {code}：尚未评价",
    "Citizen rating {stars} {rating}/5 (report {code}), {time}":
        "市民评价 {stars} {rating}/5（上报 {code}），{time}",
    "No feedback, photos or rating yet.": "暂无反馈、照片或评价。",
    "unit feedback #{ref}": "警力反馈 #{ref}", "citizen report {ref}": "市民上报 {ref}",
    "Photo {id}": "照片 {id}", "{owner} · SHA-256 of the original {sha}":
        "{owner} · 原图 SHA-256 {sha}",
    "follow-up: {error}": "后续情况：{error}", "Photo {id}: click for full size":
        "照片 {id}：点击查看大图", "photo: {error}": "照片：{error}",
})
