<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="zh_CN">
<context>
    <name>AlertTray</name>
    <message>
        <location filename="../alert_tray.py" line="166" />
        <source>note for the acknowledgement (what was done)</source>
        <translation>确认备注（已采取的措施）</translation>
    </message>
    <message>
        <location filename="../alert_tray.py" line="167" />
        <source>Acknowledge</source>
        <translation>确认收到</translation>
    </message>
    <message>
        <location filename="../alert_tray.py" line="170" />
        <source>sound</source>
        <translation>声音</translation>
    </message>
    <message>
        <location filename="../alert_tray.py" line="189" />
        <source>superbrain alerts</source>
        <translation>superbrain 预警</translation>
    </message>
    <message>
        <location filename="../alert_tray.py" line="194" />
        <source>alerts: {error}</source>
        <translation>预警：{error}</translation>
    </message>
    <message>
        <location filename="../alert_tray.py" line="232" />
        <source>{n} to acknowledge · {shown} most recent shown</source>
        <translation>{n} 条待确认 · 显示最近 {shown} 条</translation>
    </message>
    <message>
        <location filename="../alert_tray.py" line="263" />
        <source>select an alert that is not acknowledged yet</source>
        <translation>请选择一条尚未确认的预警</translation>
    </message>
    <message>
        <location filename="../alert_tray.py" line="273" />
        <source>not acknowledged: {error}</source>
        <translation>未确认：{error}</translation>
    </message>
    <message>
        <location filename="../alert_tray.py" line="281" />
        <source>{n} acknowledged</source>
        <translation>已确认 {n} 条</translation>
    </message>
</context><context>
    <name>Alerts</name>
    <message>
        <location filename="../alert_tray.py" line="56" />
        <source>critical</source>
        <translation>特急</translation>
    </message>
    <message>
        <location filename="../alert_tray.py" line="57" />
        <source>high</source>
        <translation>高</translation>
    </message>
    <message>
        <location filename="../alert_tray.py" line="58" />
        <source>medium</source>
        <translation>中</translation>
    </message>
    <message>
        <location filename="../alert_tray.py" line="59" />
        <source>low</source>
        <translation>低</translation>
    </message>
    <message>
        <location filename="../alert_tray.py" line="60" />
        <source>info</source>
        <translation>提示</translation>
    </message>
</context><context>
    <name>CasesPanel</name>
    <message>
        <location filename="../cases_panel.py" line="114" />
        <source>New case…</source>
        <translation>新建案件…</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="127" />
        <source>Open</source>
        <translation>打开</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="128" />
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="129" />
        <source>Save as…</source>
        <translation>另存为…</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="130" />
        <source>Duplicate…</source>
        <translation>复制…</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="131" />
        <source>Group selected…</source>
        <translation>将所选编组…</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="132" />
        <source>Picture…</source>
        <translation>导出图片…</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="137" />
        <source>Charts</source>
        <translation>图谱</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="148" />
        <source>note — @type:key links an entity</source>
        <translation>笔记 — 用 @类型:键 关联实体</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="150" />
        <source>Add note</source>
        <translation>添加笔记</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="155" />
        <source>Notes</source>
        <translation>笔记</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="162" />
        <source>Pin selected record</source>
        <translation>固定所选记录</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="164" />
        <source>Pinned evidence</source>
        <translation>固定的证据</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="171" />
        <source>Dossier…</source>
        <translation>生成卷宗…</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="172" />
        <source>Export case…</source>
        <translation>导出案件…</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="173" />
        <source>Import case…</source>
        <translation>导入案件…</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="181" />
        <source>not available in client mode: run `superbrain cases import … -w centre.toml` on the server</source>
        <translation>客户端模式下不可用：请在服务器上运行 `superbrain cases import … -w centre.toml`</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="705" />
        <location filename="../cases_panel.py" line="669" />
        <location filename="../cases_panel.py" line="233" />
        <source>{what}: {error}</source>
        <translation>{what}：{error}</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="242" />
        <source>cases</source>
        <translation>案件列表</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="245" />
        <source>— no case —</source>
        <translation>— 未选案件 —</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="261" />
        <source>open case</source>
        <translation>打开案件</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="266" />
        <source>{classification} · {status} · you are {role} · members: {members}</source>
        <translation>{classification} · {status} · 您的角色：{role} · 成员：{members}</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="283" />
        <location filename="../cases_panel.py" line="279" />
        <source>New case</source>
        <translation>新建案件</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="279" />
        <source>Case number (e.g. 2026-JX-0117):</source>
        <translation>案件编号（例如 2026-JX-0117）：</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="283" />
        <source>Title:</source>
        <translation>标题：</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="287" />
        <source>new case</source>
        <translation>新建案件</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="307" />
        <source>charts</source>
        <translation>图谱列表</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="315" />
        <source>notes</source>
        <translation>笔记列表</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="324" />
        <source>pins</source>
        <translation>固定列表</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="372" />
        <source>saved search “{query}”: {then} hits when pinned, {now} now</source>
        <translation>保存的检索“{query}”：固定时 {then} 条命中，现在 {now} 条</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="380" />
        <source>face lead {title}: similarity {s}, threshold {t} (false-match rate {fmr}); review: {review}{by}</source>
        <translation>人脸线索 {title}：相似度 {s}，阈值 {t}（误匹配率 {fmr}）；复核：{review}{by}</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="388" />
        <source>confirmed</source>
        <translation>已确认</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="388" />
        <source>rejected</source>
        <translation>已否定</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="389" />
        <source>not reviewed</source>
        <translation>未复核</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="391" />
        <source> by {user}</source>
        <translation>（{user}）</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="395" />
        <source>co-occurrence {title}: {n} entities moved together</source>
        <translation>伴随分析 {title}：{n} 个实体同行</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="400" />
        <source>record {title} ({ref})</source>
        <translation>记录 {title}（{ref}）</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="405" />
        <source>pinned by {user}, {when}</source>
        <translation>{user} 固定于 {when}</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="421" />
        <source>notes on the map</source>
        <translation>地图上的笔记</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="452" />
        <source>Notes in case {case}</source>
        <translation>案件 {case} 的笔记</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="466" />
        <source>open chart</source>
        <translation>打开图谱</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="476" />
        <source>{n} links were added to the data since this chart was saved; expand the chart to bring them in.</source>
        <translation>自该图谱保存以来数据中新增了 {n} 条关系；展开图谱即可纳入。</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="487" />
        <source>opened {name} (version {v})</source>
        <translation>已打开 {name}（版本 {v}）</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="506" />
        <location filename="../cases_panel.py" line="497" />
        <source>choose a case first</source>
        <translation>请先选择案件</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="508" />
        <source>Save chart as</source>
        <translation>图谱另存为</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="508" />
        <source>Chart name:</source>
        <translation>图谱名称：</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="514" />
        <source>save chart</source>
        <translation>保存图谱</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="518" />
        <source>saved {name} (version {v})</source>
        <translation>已保存 {name}（版本 {v}）</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="527" />
        <source>Duplicate chart</source>
        <translation>复制图谱</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="527" />
        <source>New name:</source>
        <translation>新名称：</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="530" />
        <source>duplicate</source>
        <translation>复制</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="541" />
        <source>open or save a chart of the case first</source>
        <translation>请先打开或保存本案的图谱</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="544" />
        <source>Chart picture</source>
        <translation>图谱图片</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="548" />
        <source>picture</source>
        <translation>导出图片</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="555" />
        <source>picture written: {file}</source>
        <translation>图片已写入：{file}</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="560" />
        <source>select entities on the chart first</source>
        <translation>请先在图谱上选择实体</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="562" />
        <source>Group</source>
        <translation>编组</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="562" />
        <source>Group name:</source>
        <translation>编组名称：</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="569" />
        <source>group {name}: {n} entities (save the chart to keep it)</source>
        <translation>编组 {name}：{n} 个实体（保存图谱以保留）</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="582" />
        <source>Unsaved chart</source>
        <translation>图谱未保存</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="583" />
        <source>The link chart has changes that are not saved in the case. Save them?</source>
        <translation>关系图谱有尚未保存到案件中的修改。是否保存？</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="608" />
        <source>on the case</source>
        <translation>关于本案</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="610" />
        <source>on {id}</source>
        <translation>关于 {id}</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="612" />
        <source>on record {id}</source>
        <translation>关于记录 {id}</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="669" />
        <location filename="../cases_panel.py" line="622" />
        <source>note</source>
        <translation>笔记</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="637" />
        <source>choose a case in the Cases dock first, then right-click the map to note a place</source>
        <translation>请先在“案件”面板中选择案件，再在地图上右键为该地点添加笔记</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="645" />
        <source>Note on this place</source>
        <translation>为此地点添加笔记</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="647" />
        <source>Note at {lat}, {lon} in case {case} (@type:key links an entity):</source>
        <translation>案件 {case} 中位于 {lat}, {lon} 的笔记（@类型:键 可关联实体）：</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="671" />
        <source>note added on {lat}, {lon}</source>
        <translation>已在 {lat}, {lon} 添加笔记</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="693" />
        <source>choose a case in the Cases dock first, then pin</source>
        <translation>请先在“案件”面板中选择案件，再固定</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="700" />
        <source>pinned to {case}: {title}</source>
        <translation>已固定到 {case}：{title}</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="705" />
        <source>pin</source>
        <translation>固定</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="715" />
        <source>select a record first</source>
        <translation>请先选择一条记录</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="725" />
        <source>Write the dossier</source>
        <translation>生成卷宗</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="734" />
        <source>dossier</source>
        <translation>生成卷宗</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="740" />
        <source>dossier written: {file} (sha256 {sha})</source>
        <translation>卷宗已写入：{file}（sha256 {sha}）</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="751" />
        <source>Export case</source>
        <translation>导出案件</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="755" />
        <source>export</source>
        <translation>导出</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="761" />
        <source>case file written: {file}</source>
        <translation>案件文件已写入：{file}</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="764" />
        <source>Import case</source>
        <translation>导入案件</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="767" />
        <source>import</source>
        <translation>导入</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="775" />
        <source>updates</source>
        <translation>更新</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="813" />
        <source>{user} saved this chart (version {v}); reopen it to see their changes</source>
        <translation>{user} 保存了该图谱（版本 {v}）；重新打开即可看到其修改</translation>
    </message>
    <message>
        <location filename="../cases_panel.py" line="822" />
        <source>{user}: {kind}</source>
        <translation>{user}：{kind}</translation>
    </message>
</context><context>
    <name>CooccurDialog</name>
    <message>
        <location filename="../cooccur_dialog.py" line="46" />
        <source>Moving together</source>
        <translation>同行分析</translation>
    </message>
    <message>
        <location filename="../cooccur_dialog.py" line="48" />
        <source>entity id, plate or phone</source>
        <translation>实体编号、车牌或电话</translation>
    </message>
    <message>
        <location filename="../cooccur_dialog.py" line="52" />
        <source> s apart at most</source>
        <translation> 秒内</translation>
    </message>
    <message>
        <location filename="../cooccur_dialog.py" line="56" />
        <source>at least </source>
        <translation>至少 </translation>
    </message>
    <message>
        <location filename="../cooccur_dialog.py" line="57" />
        <source> meetings</source>
        <translation> 次相遇</translation>
    </message>
    <message>
        <location filename="../cooccur_dialog.py" line="58" />
        <source>Find</source>
        <translation>查找</translation>
    </message>
    <message>
        <location filename="../cooccur_dialog.py" line="61" />
        <source>Add to chart</source>
        <translation>加入图谱</translation>
    </message>
    <message>
        <location filename="../cooccur_dialog.py" line="64" />
        <source>Pin to case</source>
        <translation>固定到案件</translation>
    </message>
    <message>
        <location filename="../cooccur_dialog.py" line="65" />
        <source>pin this result to the case open in the Cases dock</source>
        <translation>将此结果固定到“案件”面板中打开的案件</translation>
    </message>
    <message>
        <location filename="../cooccur_dialog.py" line="85" />
        <location filename="../cooccur_dialog.py" line="71" />
        <source>Entity</source>
        <translation>实体</translation>
    </message>
    <message>
        <location filename="../cooccur_dialog.py" line="72" />
        <source>Meetings</source>
        <translation>相遇次数</translation>
    </message>
    <message>
        <location filename="../cooccur_dialog.py" line="73" />
        <source>Places</source>
        <translation>地点数</translation>
    </message>
    <message>
        <location filename="../cooccur_dialog.py" line="74" />
        <source>Days</source>
        <translation>天数</translation>
    </message>
    <message>
        <location filename="../cooccur_dialog.py" line="75" />
        <source>Joint reads</source>
        <translation>同时过车</translation>
    </message>
    <message>
        <location filename="../cooccur_dialog.py" line="104" />
        <source>enter an entity first</source>
        <translation>请先输入实体</translation>
    </message>
    <message>
        <location filename="../cooccur_dialog.py" line="121" />
        <source>not found: {error}</source>
        <translation>未找到：{error}</translation>
    </message>
    <message>
        <location filename="../cooccur_dialog.py" line="123" />
        <source>searching …</source>
        <translation>正在检索 …</translation>
    </message>
    <message>
        <location filename="../cooccur_dialog.py" line="145" />
        <source>{n} entities moved with {entity}</source>
        <translation>{n} 个实体与 {entity} 同行</translation>
    </message>
</context><context>
    <name>DashboardPanel</name>
    <message>
        <location filename="../dashboard_panel.py" line="102" />
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location filename="../dashboard_panel.py" line="107" />
        <source>indicator field</source>
        <translation>指标字段</translation>
    </message>
    <message>
        <location filename="../dashboard_panel.py" line="112" />
        <source>records per month by category</source>
        <translation>各类别每月记录数</translation>
    </message>
    <message>
        <location filename="../dashboard_panel.py" line="116" />
        <source>last 30 days vs a year before (%)</source>
        <translation>近30天同比（%）</translation>
    </message>
    <message>
        <location filename="../dashboard_panel.py" line="117" />
        <source>top places (records by district)</source>
        <translation>高发地点（按辖区记录数）</translation>
    </message>
    <message>
        <location filename="../dashboard_panel.py" line="119" />
        <source>hotspots: incidents by district, 14 days vs the 14 before</source>
        <translation>热点：各辖区警情，近14天与前14天对比</translation>
    </message>
    <message>
        <location filename="../dashboard_panel.py" line="182" />
        <source>{n} records in {sources} sources</source>
        <translation>{sources} 个数据源共 {n} 条记录</translation>
    </message>
</context><context>
    <name>Dispatch</name>
    <message>
        <location filename="../dispatch_models.py" line="36" />
        <source>Select an incident in the queue.</source>
        <translation>请在队列中选择一起警情。</translation>
    </message>
</context><context>
    <name>DispatchMap</name>
    <message>
        <location filename="../dispatch_map.py" line="55" />
        <source>building the map …</source>
        <translation>正在生成地图 …</translation>
    </message>
</context><context>
    <name>DispatchPanel</name>
    <message>
        <location filename="../dispatch_panel.py" line="120" />
        <source>loading the board …</source>
        <translation>正在加载调度台 …</translation>
    </message>
    <message>
        <location filename="../dispatch_panel.py" line="135" />
        <source>Unit</source>
        <translation>警力</translation>
    </message>
    <message>
        <location filename="../dispatch_panel.py" line="136" />
        <source>Type</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../dispatch_panel.py" line="137" />
        <source>Distance</source>
        <translation>距离</translation>
    </message>
    <message>
        <location filename="../dispatch_panel.py" line="138" />
        <source>ETA</source>
        <translation>预计到达</translation>
    </message>
    <message>
        <location filename="../dispatch_panel.py" line="139" />
        <source>Position</source>
        <translation>位置</translation>
    </message>
    <message>
        <location filename="../dispatch_panel.py" line="145" />
        <source>Recommend</source>
        <translation>推荐警力</translation>
    </message>
    <message>
        <location filename="../dispatch_panel.py" line="147" />
        <source>Assign selected units</source>
        <translation>派出所选警力</translation>
    </message>
    <message>
        <location filename="../dispatch_panel.py" line="154" />
        <source>Incident queue (most urgent first)</source>
        <translation>警情队列（最紧急在前）</translation>
    </message>
    <message>
        <location filename="../dispatch_panel.py" line="155" />
        <source>Closed incidents (newest first)</source>
        <translation>已结束警情（最新在前）</translation>
    </message>
    <message>
        <location filename="../dispatch_panel.py" line="159" />
        <source>Select an incident in the queue.</source>
        <translation>请在队列中选择一起警情。</translation>
    </message>
    <message>
        <location filename="../dispatch_panel.py" line="182" />
        <source>Recommended units</source>
        <translation>推荐警力</translation>
    </message>
    <message>
        <location filename="../dispatch_panel.py" line="193" />
        <source>Release</source>
        <translation>释放</translation>
    </message>
    <message>
        <location filename="../dispatch_panel.py" line="196" />
        <source>set status…</source>
        <translation>设置状态…</translation>
    </message>
    <message>
        <location filename="../dispatch_panel.py" line="201" />
        <source>Units by status</source>
        <translation>警力状态</translation>
    </message>
    <message>
        <location filename="../dispatch_panel.py" line="221" />
        <source>Show in Map view</source>
        <translation>在地图视图中显示</translation>
    </message>
    <message>
        <location filename="../dispatch_panel.py" line="223" />
        <source>The Map view shows every layer; pop it out (Ctrl+Shift+D) to keep it beside the board</source>
        <translation>地图视图显示全部图层；可将其弹出（Ctrl+Shift+D）放在调度台旁边</translation>
    </message>
    <message>
        <location filename="../dispatch_panel.py" line="322" />
        <source>board: {error}</source>
        <translation>调度台：{error}</translation>
    </message>
    <message>
        <location filename="../dispatch_panel.py" line="350" />
        <source>Open incidents {open}   |   units: {units}   |   unacknowledged alerts {alerts}</source>
        <translation>未结警情 {open}   |   警力：{units}   |   未确认预警 {alerts}</translation>
    </message>
</context><context>
    <name>EvaluationModel</name>
    <message>
        <location filename="../evaluation_panel.py" line="103" />
        <source>All districts</source>
        <translation>全市</translation>
    </message>
    <message>
        <location filename="../evaluation_panel.py" line="120" />
        <source>Indicator</source>
        <translation>指标</translation>
    </message>
    <message>
        <location filename="../evaluation_panel.py" line="151" />
        <source>higher is better</source>
        <translation>越高越好</translation>
    </message>
    <message>
        <location filename="../evaluation_panel.py" line="153" />
        <source>lower is better</source>
        <translation>越低越好</translation>
    </message>
    <message>
        <location filename="../evaluation_panel.py" line="158" />
        <source>better</source>
        <translation>改善</translation>
    </message>
    <message>
        <location filename="../evaluation_panel.py" line="158" />
        <source>worse</source>
        <translation>变差</translation>
    </message>
    <message>
        <location filename="../evaluation_panel.py" line="160" />
        <source>{value} {unit}; a year before: {previous} {unit}; change {change} {verdict}; sample {n}</source>
        <translation>{value} {unit}；去年同期：{previous} {unit}；变化 {change} {verdict}；样本 {n}</translation>
    </message>
</context><context>
    <name>EvaluationPanel</name>
    <message>
        <location filename="../evaluation_panel.py" line="187" />
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location filename="../evaluation_panel.py" line="191" />
        <source>Month</source>
        <translation>月份</translation>
    </message>
    <message>
        <location filename="../evaluation_panel.py" line="231" />
        <source>computing the indicators …</source>
        <translation>正在计算指标 …</translation>
    </message>
    <message>
        <location filename="../evaluation_panel.py" line="247" />
        <source>the workspace's own</source>
        <translation>本工作区自定义</translation>
    </message>
    <message>
        <location filename="../evaluation_panel.py" line="249" />
        <source>the shipped set</source>
        <translation>系统默认</translation>
    </message>
    <message>
        <location filename="../evaluation_panel.py" line="253" />
        <source>{month} against {before} · months in {zone} · indicators: {source}</source>
        <translation>{month} 同比 {before} · 月份按 {zone} 计 · 指标：{source}</translation>
    </message>
    <message>
        <location filename="../evaluation_panel.py" line="310" />
        <source>{indicator} ({unit}), last {n} months</source>
        <translation>{indicator}（{unit}），近 {n} 个月</translation>
    </message>
</context><context>
    <name>FacesPanel</name>
    <message>
        <location filename="../faces_panel.py" line="171" />
        <source>Open photo…</source>
        <translation>打开照片…</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="173" />
        <source>Paste</source>
        <translation>粘贴</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="177" />
        <source>case number (required)</source>
        <translation>案件编号（必填）</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="179" />
        <source>purpose of this search (required)</source>
        <translation>比对用途（必填）</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="180" />
        <source>Search gallery</source>
        <translation>比对人像库</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="189" />
        <source>⚠ </source>
        <translation>⚠ </translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="202" />
        <source>review note (why)</source>
        <translation>复核备注（理由）</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="203" />
        <source>Confirm</source>
        <translation>确认</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="204" />
        <source>Reject</source>
        <translation>否定</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="207" />
        <source>Open in graph</source>
        <translation>在图谱中打开</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="209" />
        <source>Open record</source>
        <translation>打开记录</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="211" />
        <source>Pin lead to case</source>
        <translation>将线索固定到案件</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="213" />
        <source>pin this candidate, with its similarity, the threshold, its false-match rate and its review state, to the case the search was made for</source>
        <translation>将此候选（含相似度、阈值、误匹配率和复核状态）固定到本次检索所属的案件</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="235" />
        <source>Candidates</source>
        <translation>候选人</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="236" />
        <source>show candidates below the threshold</source>
        <translation>显示低于阈值的候选人</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="369" />
        <source>{n} faces found; click one to search it</source>
        <translation>发现 {n} 张人脸；点击其中一张进行比对</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="371" />
        <source>{n} face found</source>
        <translation>发现 {n} 张人脸</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="391" />
        <source>Not searched: {missing}.</source>
        <translation>未检索：{missing}。</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="432" />
        <source>Candidates — threshold {t}: {fm} on LFW; gallery of {n} faces</source>
        <translation>候选人 — 阈值 {t}：LFW 测得 {fm}；人像库共 {n} 张人脸</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="446" />
        <source>{n} candidates, {above} above the threshold — leads only; confirm or reject each (audited)</source>
        <translation>{n} 个候选，{above} 个高于阈值 — 仅为线索；请逐一确认或否定（已审计）</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="454" />
        <source> · {hidden} below the threshold hidden</source>
        <translation> · 已隐藏 {hidden} 名低于阈值的候选人</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="515" />
        <source>below the threshold: not named</source>
        <translation>低于阈值：不显示身份</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="518" />
        <source>✔ confirmed before</source>
        <translation>✔ 此前已确认</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="519" />
        <source>✖ rejected before</source>
        <translation>✖ 此前已否定</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="579" />
        <source>candidate #{rank} {decision} (audited)</source>
        <translation>候选 #{rank} {decision}（已审计）</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="602" />
        <source>pinning candidate #{rank} to case {case} …</source>
        <translation>正在将候选 #{rank} 固定到案件 {case} …</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="605" />
        <source>candidate #{rank} pinned to case {case} as a lead (audited)</source>
        <translation>候选 #{rank} 已作为线索固定到案件 {case}（已审计）</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="648" />
        <source>Investigative lead only: a face match is not an identification. A trained examiner must confirm or reject each candidate; nothing is done automatically.</source>
        <translation>仅为侦查线索：人像比对结果不是身份认定。每个候选人须由经过培训的比对人员确认或否定；系统不会自动采取任何措施。</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="676" />
        <source>false-match rate {rate} (sample size unknown)</source>
        <translation>误识率 {rate}（样本量未知）</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="683" />
        <source>{m} of {n} impostor pairs</source>
        <translation>{n} 对异人样本中误识 {m} 对</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="685" />
        <source>false matches: {m} of {n} impostor pairs ({rate})</source>
        <translation>误识：{n} 对异人样本中 {m} 对（{rate}）</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="696" />
        <source>open, drop or paste a photo with a face</source>
        <translation>请打开、拖入或粘贴一张含人脸的照片</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="700" />
        <source>click the face to search (the photo holds several)</source>
        <translation>照片中有多张人脸，请点击要比对的一张</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="705" />
        <source>enter the case number</source>
        <translation>请填写案件编号</translation>
    </message>
    <message>
        <location filename="../faces_panel.py" line="707" />
        <source>state the purpose of the search</source>
        <translation>请填写检索事由</translation>
    </message>
</context><context>
    <name>Followup</name>
    <message>
        <location filename="../incident_followup.py" line="44" />
        <source>resolved</source>
        <translation>已处置</translation>
    </message>
    <message>
        <location filename="../incident_followup.py" line="45" />
        <source>referred</source>
        <translation>已移交</translation>
    </message>
    <message>
        <location filename="../incident_followup.py" line="46" />
        <source>no trace</source>
        <translation>未发现</translation>
    </message>
    <message>
        <location filename="../incident_followup.py" line="47" />
        <source>false alarm</source>
        <translation>误报</translation>
    </message>
    <message>
        <location filename="../incident_followup.py" line="48" />
        <source>other</source>
        <translation>其他</translation>
    </message>
    <message>
        <location filename="../incident_followup.py" line="61" />
        <source>Feedback from {unit} ({account}), {time}: {outcome}</source>
        <translation>{unit}（{account}）处置反馈，{time}：{outcome}</translation>
    </message>
    <message>
        <location filename="../incident_followup.py" line="77" />
        <source>{n} photo(s)</source>
        <translation>{n} 张照片</translation>
    </message>
    <message>
        <location filename="../incident_followup.py" line="88" />
        <source>Citizen report {code}: not rated yet</source>
        <translation>市民上报 {code}：尚未评价</translation>
    </message>
    <message>
        <location filename="../incident_followup.py" line="95" />
        <source>Citizen rating {stars} {rating}/5 (report {code}), {time}</source>
        <translation>市民评价 {stars} {rating}/5（上报 {code}），{time}</translation>
    </message>
    <message>
        <location filename="../incident_followup.py" line="106" />
        <source>No feedback, photos or rating yet.</source>
        <translation>暂无反馈、照片或评价。</translation>
    </message>
    <message>
        <location filename="../incident_followup.py" line="114" />
        <source>unit feedback #{ref}</source>
        <translation>警力反馈 #{ref}</translation>
    </message>
    <message>
        <location filename="../incident_followup.py" line="116" />
        <source>citizen report {ref}</source>
        <translation>市民上报 {ref}</translation>
    </message>
    <message>
        <location filename="../incident_followup.py" line="137" />
        <source>Photo {id}</source>
        <translation>照片 {id}</translation>
    </message>
    <message>
        <location filename="../incident_followup.py" line="149" />
        <source>{owner} · SHA-256 of the original {sha}</source>
        <translation>{owner} · 原图 SHA-256 {sha}</translation>
    </message>
    <message>
        <location filename="../incident_followup.py" line="227" />
        <source>follow-up: {error}</source>
        <translation>后续情况：{error}</translation>
    </message>
    <message>
        <location filename="../incident_followup.py" line="263" />
        <source>Photo {id}: click for full size</source>
        <translation>照片 {id}：点击查看大图</translation>
    </message>
    <message>
        <location filename="../incident_followup.py" line="289" />
        <source>photo: {error}</source>
        <translation>照片：{error}</translation>
    </message>
</context><context>
    <name>GraphPanel</name>
    <message>
        <location filename="../graph_panel.py" line="304" />
        <source>entity id, plate, phone or ID number — Enter to chart</source>
        <translation>实体编号、车牌、电话或身份证号 — 回车生成图谱</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="309" />
        <source>depth </source>
        <translation>深度 </translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="313" />
        <source>colour by type</source>
        <translation>按类型着色</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="314" />
        <source>colour by centrality</source>
        <translation>按中心度着色</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="315" />
        <source>show communities</source>
        <translation>显示社群</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="319" />
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="325" />
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="326" />
        <source>Undo the last chart edit (Ctrl+Z)</source>
        <translation>撤销上一步图谱操作（Ctrl+Z）</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="328" />
        <source>Redo</source>
        <translation>重做</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="329" />
        <source>Redo (Ctrl+Shift+Z)</source>
        <translation>重做（Ctrl+Shift+Z）</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="953" />
        <location filename="../graph_panel.py" line="340" />
        <source>Moving together…</source>
        <translation>同行分析…</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="343" />
        <source>Clear</source>
        <translation>清空</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="344" />
        <source>Unhide all</source>
        <translation>全部显示</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="345" />
        <source>PNG…</source>
        <translation>PNG…</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="346" />
        <source>GraphML…</source>
        <translation>GraphML…</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="350" />
        <source>Add</source>
        <translation>加入</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="352" />
        <source>Add the typed entity to this chart (Shift+Enter); Enter starts a new chart</source>
        <translation>将输入的实体加入当前图谱（Shift+Enter）；回车则新建图谱</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="366" />
        <source>Double-click a node to expand it; right-click for more.</source>
        <translation>双击节点展开；右键查看更多操作。</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="551" />
        <source>graph: {error}</source>
        <translation>图谱：{error}</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="553" />
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="587" />
        <source> (node limit reached: not every neighbour is shown)</source>
        <translation>（已达节点上限：未显示全部相邻实体）</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="595" />
        <source>{entity} ({n} links)</source>
        <translation>{entity}（{n} 条关系）</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="603" />
        <source>{n} hub not expanded: {hubs}</source>
        <translation>{n} 个枢纽未展开：{hubs}</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="604" />
        <source>{n} hubs not expanded: {hubs}</source>
        <translation>{n} 个枢纽未展开：{hubs}</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="611" />
        <source> — right-click it and choose Expand by link type to open one kind of link at a time, or raise [graph] max_fanout in superbrain.toml</source>
        <translation>——右键点击它，选择“按关系类型展开”，每次展开一种关系；或在 superbrain.toml 中调高 [graph] max_fanout</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="621" />
        <source>{n} entity</source>
        <translation>{n} 个实体</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="621" />
        <source>{n} entities</source>
        <translation>{n} 个实体</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="622" />
        <source>{n} link</source>
        <translation>{n} 条关系</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="622" />
        <source>{n} links</source>
        <translation>{n} 条关系</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="623" />
        <source>{n} new</source>
        <translation>新增 {n}</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="741" />
        <source>colour and size: PageRank (red = most central)</source>
        <translation>颜色和大小：PageRank（红色最核心）</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="742" />
        <source>colour: community (Louvain)</source>
        <translation>颜色：社群（Louvain）</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="918" />
        <source>{n} link on the chart</source>
        <translation>图上 {n} 条关系</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="918" />
        <source>{n} links on the chart</source>
        <translation>图上 {n} 条关系</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="944" />
        <source>Expand</source>
        <translation>展开</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="945" />
        <source>Expand by link type</source>
        <translation>按关系类型展开</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="950" />
        <source>Find path to…</source>
        <translation>查找路径至…</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="957" />
        <source>Unpin</source>
        <translation>取消固定</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="957" />
        <source>Pin</source>
        <translation>固定</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="960" />
        <source>Hide</source>
        <translation>隐藏</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="962" />
        <source>Colour by centrality</source>
        <translation>按中心度着色</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="965" />
        <source>Show communities</source>
        <translation>显示社群</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="973" />
        <source>Search its records</source>
        <translation>检索相关记录</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="988" />
        <source>adding {n} entities …</source>
        <translation>正在加入 {n} 个实体 …</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="1077" />
        <source>path of {n} hops: </source>
        <translation>{n} 跳路径：</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="1121" />
        <source>{n} communities (Louvain)</source>
        <translation>{n} 个社群（Louvain）</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="1179" />
        <location filename="../graph_panel.py" line="1170" />
        <source>saved {path}</source>
        <translation>已保存 {path}</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="1181" />
        <source>export failed: {error}</source>
        <translation>导出失败：{error}</translation>
    </message>
</context><context>
    <name>Headers</name>
    <message>
        <location filename="headers.py" line="10" />
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <location filename="headers.py" line="11" />
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <location filename="headers.py" line="12" />
        <source>Type</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="headers.py" line="13" />
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <location filename="headers.py" line="14" />
        <source>Score</source>
        <translation>得分</translation>
    </message>
    <message>
        <location filename="headers.py" line="15" />
        <source>Category</source>
        <translation>类别</translation>
    </message>
    <message>
        <location filename="headers.py" line="16" />
        <source>Waiting</source>
        <translation>等待时长</translation>
    </message>
    <message>
        <location filename="headers.py" line="17" />
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="headers.py" line="18" />
        <source>District</source>
        <translation>辖区</translation>
    </message>
    <message>
        <location filename="headers.py" line="19" />
        <source>Units</source>
        <translation>警力</translation>
    </message>
    <message>
        <location filename="headers.py" line="20" />
        <source>Summary</source>
        <translation>摘要</translation>
    </message>
    <message>
        <location filename="headers.py" line="21" />
        <source>Unit</source>
        <translation>警力</translation>
    </message>
    <message>
        <location filename="headers.py" line="22" />
        <source>Incident</source>
        <translation>警情</translation>
    </message>
    <message>
        <location filename="headers.py" line="23" />
        <source>Position</source>
        <translation>位置</translation>
    </message>
    <message>
        <location filename="headers.py" line="24" />
        <source>Severity</source>
        <translation>级别</translation>
    </message>
    <message>
        <location filename="headers.py" line="25" />
        <source>Kind</source>
        <translation>种类</translation>
    </message>
    <message>
        <location filename="headers.py" line="26" />
        <source>Alert</source>
        <translation>预警</translation>
    </message>
    <message>
        <location filename="headers.py" line="27" />
        <source>Subject</source>
        <translation>对象</translation>
    </message>
    <message>
        <location filename="headers.py" line="28" />
        <source>Acknowledged</source>
        <translation>已确认</translation>
    </message>
    <message>
        <location filename="headers.py" line="29" />
        <source>Version</source>
        <translation>版本</translation>
    </message>
    <message>
        <location filename="headers.py" line="30" />
        <source>Formats</source>
        <translation>格式</translation>
    </message>
    <message>
        <location filename="headers.py" line="31" />
        <source>Description / error</source>
        <translation>说明 / 错误</translation>
    </message>
    <message>
        <location filename="headers.py" line="32" />
        <source>Person A</source>
        <translation>人员 A</translation>
    </message>
    <message>
        <location filename="headers.py" line="33" />
        <source>Person B</source>
        <translation>人员 B</translation>
    </message>
    <message>
        <location filename="headers.py" line="34" />
        <source>Not sure</source>
        <translation>不确定</translation>
    </message>
    <message>
        <location filename="headers.py" line="35" />
        <source>Field</source>
        <translation>字段</translation>
    </message>
    <message>
        <location filename="headers.py" line="36" />
        <source>Record A</source>
        <translation>记录 A</translation>
    </message>
    <message>
        <location filename="headers.py" line="37" />
        <source>Record B</source>
        <translation>记录 B</translation>
    </message>
    <message>
        <location filename="headers.py" line="38" />
        <source>Level</source>
        <translation>相符程度</translation>
    </message>
    <message>
        <location filename="headers.py" line="39" />
        <source>Weight</source>
        <translation>权重</translation>
    </message>
</context><context>
    <name>MainWindow</name>
    <message>
        <location filename="../mainwindow.py" line="312" />
        <source>workspace: {name}</source>
        <translation>工作区：{name}</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="314" />
        <source>backend: …</source>
        <translation>检索后端：…</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="318" />
        <source>user: {user} ({role})</source>
        <translation>用户：{user}（{role}）</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="331" />
        <source>analyst</source>
        <translation>分析员</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="332" />
        <source>commander</source>
        <translation>指挥员</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="333" />
        <source>supervisor</source>
        <translation>主管</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="334" />
        <source>administrator</source>
        <translation>管理员</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="349" />
        <source>&amp;Workspace</source>
        <translation>工作区(&amp;W)</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="350" />
        <source>Ingest a file…</source>
        <translation>导入文件…</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="351" />
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="353" />
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="354" />
        <source>&amp;Go</source>
        <translation>转到(&amp;G)</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="355" />
        <source>Search</source>
        <translation>检索</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="356" />
        <source>◀ Back</source>
        <translation>◀ 后退</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="357" />
        <source>Forward ▶</source>
        <translation>前进 ▶</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="358" />
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="367" />
        <source>Pop out the current view</source>
        <translation>弹出当前视图</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="369" />
        <source>Board mode (full screen)</source>
        <translation>调度大屏模式（全屏）</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="372" />
        <source>Toggle dark / light theme</source>
        <translation>切换深色 / 浅色主题</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="373" />
        <source>Reset layout</source>
        <translation>恢复默认布局</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="515" />
        <location filename="../mainwindow.py" line="374" />
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="386" />
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="585" />
        <location filename="../mainwindow.py" line="387" />
        <source>Keyboard shortcuts</source>
        <translation>快捷键</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="388" />
        <source>Navigation</source>
        <translation>导航</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="516" />
        <source>The language changes when the console is restarted.</source>
        <translation>重新启动控制台后语言设置生效。</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="519" />
        <source>Restart now</source>
        <translation>立即重启</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="520" />
        <source>Later</source>
        <translation>稍后</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="540" />
        <source>could not restart: start the console again</source>
        <translation>无法重启：请重新启动控制台</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="559" />
        <source>backend: {state}</source>
        <translation>检索后端：{state}</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="562" />
        <source>backend: error: {error}</source>
        <translation>检索后端：错误：{error}</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="576" />
        <source>UI stall {ms} ms</source>
        <translation>界面卡顿 {ms} 毫秒</translation>
    </message>
</context><context>
    <name>MapPage</name>
    <message>
        <location filename="../map_panel.py" line="63" />
        <source>incidents</source>
        <translation>警情</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="64" />
        <source>units</source>
        <translation>警力</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="65" />
        <source>records</source>
        <translation>记录</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="66" />
        <source>hotspots</source>
        <translation>热点</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="67" />
        <source>tracks</source>
        <translation>轨迹</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="68" />
        <source>geofences</source>
        <translation>电子围栏</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="69" />
        <source>basemap</source>
        <translation>底图</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="70" />
        <source>tiles</source>
        <translation>瓦片底图</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="71" />
        <source>places</source>
        <translation>地点</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="72" />
        <source>streets</source>
        <translation>街道</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="73" />
        <source>case notes</source>
        <translation>案件笔记</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="74" />
        <source>on</source>
        <translation>对象：</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="75" />
        <source>Incidents</source>
        <translation>警情</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="76" />
        <source>Units available</source>
        <translation>警力 空闲</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="77" />
        <source>busy</source>
        <translation>忙碌</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="78" />
        <source>(position stale)</source>
        <translation>（位置过期）</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="79" />
        <source>no located records</source>
        <translation>没有带坐标的记录</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="80" />
        <source>offline basemap: streets and places (names as you zoom in)</source>
        <translation>离线底图：街道与地点（放大后显示名称）</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="83" />
        <source>offline basemap: district outlines</source>
        <translation>离线底图：辖区轮廓</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="86" />
        <source>offline: coordinate grid (no district outlines installed)</source>
        <translation>离线：坐标网格（未安装辖区轮廓）</translation>
    </message>
</context><context>
    <name>MapPanel</name>
    <message>
        <location filename="../map_panel.py" line="250" />
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="252" />
        <source>Show everything</source>
        <translation>显示全部</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="259" />
        <source>building the map …</source>
        <translation>正在生成地图 …</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="323" />
        <source>{n} incident</source>
        <translation>{n} 起警情</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="323" />
        <source>{n} incidents</source>
        <translation>{n} 起警情</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="324" />
        <source>{n} unit</source>
        <translation>{n} 个警力</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="324" />
        <source>{n} units</source>
        <translation>{n} 个警力</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="325" />
        <source>{n} located record</source>
        <translation>{n} 条定位记录</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="325" />
        <source>{n} located records</source>
        <translation>{n} 条定位记录</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="328" />
        <source>{n} track</source>
        <translation>{n} 条轨迹</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="328" />
        <source>{n} tracks</source>
        <translation>{n} 条轨迹</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="330" />
        <source>hotspots</source>
        <translation>热点</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="332" />
        <source>{n} geofence</source>
        <translation>{n} 个电子围栏</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="332" />
        <source>{n} geofences</source>
        <translation>{n} 个电子围栏</translation>
    </message>
    <message>
        <location filename="../map_panel.py" line="334" />
        <source>located records and tracks: not available in client mode</source>
        <translation>带位置的记录和轨迹：客户端模式下不可用</translation>
    </message>
</context><context>
    <name>Panels</name>
    <message>
        <location filename="../mainwindow.py" line="131" />
        <location filename="../alert_tray.py" line="239" />
        <source>Alerts</source>
        <translation>预警</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="120" />
        <source>Search</source>
        <translation>检索</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="121" />
        <source>Link chart</source>
        <translation>关系图谱</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="122" />
        <source>Map</source>
        <translation>地图</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="123" />
        <source>Timeline</source>
        <translation>时间轴</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="124" />
        <source>Dashboards</source>
        <translation>统计看板</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="125" />
        <source>Evaluation</source>
        <translation>考核评估</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="126" />
        <source>Faces</source>
        <translation>人像比对</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="127" />
        <source>Dispatch board</source>
        <translation>调度台</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="128" />
        <source>Record</source>
        <translation>记录详情</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="129" />
        <source>Cases</source>
        <translation>案件</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="130" />
        <source>Identities</source>
        <translation>身份核验</translation>
    </message>
    <message>
        <location filename="../mainwindow.py" line="132" />
        <source>Plugins</source>
        <translation>数据源插件</translation>
    </message>
</context><context>
    <name>PathDialog</name>
    <message>
        <location filename="../graph_panel.py" line="203" />
        <source>Find path</source>
        <translation>查找路径</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="216" />
        <source>or search the workspace: plate, phone, name …</source>
        <translation>或检索工作区：车牌、电话、姓名 …</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="222" />
        <source>Path from {source} to:</source>
        <translation>从 {source} 到：</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="225" />
        <source>Do not pass through (hubs):</source>
        <translation>不经过（枢纽类型）：</translation>
    </message>
    <message>
        <location filename="../graph_panel.py" line="233" />
        <source>Leave out weak link types:</source>
        <translation>排除弱关系类型：</translation>
    </message>
</context><context>
    <name>PluginsPanel</name>
    <message>
        <location filename="../plugins_panel.py" line="150" />
        <source>Select a source to see where it came from and its errors.</source>
        <translation>选择一个数据源，查看其来源和错误信息。</translation>
    </message>
    <message>
        <location filename="../plugins_panel.py" line="152" />
        <source>Reload</source>
        <translation>重新加载</translation>
    </message>
    <message>
        <location filename="../plugins_panel.py" line="154" />
        <source>Ingest file…</source>
        <translation>导入文件…</translation>
    </message>
    <message>
        <location filename="../plugins_panel.py" line="157" />
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../plugins_panel.py" line="211" />
        <source>{ok} sources loaded, {broken} broken</source>
        <translation>已加载 {ok} 个数据源，{broken} 个损坏</translation>
    </message>
    <message>
        <location filename="../plugins_panel.py" line="256" />
        <source>ingesting {file} with {source} …</source>
        <translation>正在用 {source} 导入 {file} …</translation>
    </message>
    <message>
        <location filename="../plugins_panel.py" line="279" />
        <source>ingest failed: {error}</source>
        <translation>导入失败：{error}</translation>
    </message>
</context><context>
    <name>ProbeView</name>
    <message>
        <location filename="../faces_panel.py" line="65" />
        <source>Open, drop or paste (Ctrl+V) a photo</source>
        <translation>打开、拖入或粘贴（Ctrl+V）一张照片</translation>
    </message>
</context><context>
    <name>RecordPane</name>
    <message>
        <location filename="../record_pane.py" line="47" />
        <source>Select a search result, a marker or a node to see its record.</source>
        <translation>选择一条检索结果、地图标记或图谱节点以查看记录。</translation>
    </message>
    <message>
        <location filename="../record_pane.py" line="68" />
        <source>record {uid} is not in this workspace</source>
        <translation>记录 {uid} 不在此工作区中</translation>
    </message>
    <message>
        <location filename="../record_pane.py" line="88" />
        <source>entity {id} is not in this workspace</source>
        <translation>实体 {id} 不在此工作区中</translation>
    </message>
</context><context>
    <name>RecordView</name>
    <message>
        <location filename="../record_view.py" line="87" />
        <source>Graph</source>
        <translation>图谱</translation>
    </message>
    <message>
        <location filename="../record_view.py" line="88" />
        <source>Map</source>
        <translation>地图</translation>
    </message>
    <message>
        <location filename="../record_view.py" line="89" />
        <source>Timeline</source>
        <translation>时间轴</translation>
    </message>
    <message>
        <location filename="../record_view.py" line="90" />
        <source>Faces</source>
        <translation>人像比对</translation>
    </message>
    <message>
        <location filename="../record_view.py" line="93" />
        <source>location</source>
        <translation>位置</translation>
    </message>
    <message>
        <location filename="../record_view.py" line="94" />
        <source>Entities</source>
        <translation>实体</translation>
    </message>
    <message>
        <location filename="../record_view.py" line="95" />
        <source>Links</source>
        <translation>关系</translation>
    </message>
    <message>
        <location filename="../record_view.py" line="96" />
        <source>from</source>
        <translation>来源</translation>
    </message>
    <message>
        <location filename="../record_view.py" line="180" />
        <source>Link chart, map, timeline, search</source>
        <translation>关系图谱、地图、时间轴、检索</translation>
    </message>
    <message>
        <location filename="../record_view.py" line="197" />
        <source>Records ({shown} of {total})</source>
        <translation>记录（显示 {shown} / 共 {total}）</translation>
    </message>
</context><context>
    <name>ResolutionPanel</name>
    <message>
        <location filename="../resolution_panel.py" line="143" />
        <source>Select a pair to compare the two records.</source>
        <translation>选择一对记录进行比对。</translation>
    </message>
    <message>
        <location filename="../resolution_panel.py" line="146" />
        <source>Run matching</source>
        <translation>运行匹配</translation>
    </message>
    <message>
        <location filename="../resolution_panel.py" line="148" />
        <source>Accept: same person</source>
        <translation>接受：同一人</translation>
    </message>
    <message>
        <location filename="../resolution_panel.py" line="151" />
        <source>Reject: different people</source>
        <translation>否定：不同的人</translation>
    </message>
    <message>
        <location filename="../resolution_panel.py" line="153" />
        <source>Not sure</source>
        <translation>不确定</translation>
    </message>
    <message>
        <location filename="../resolution_panel.py" line="155" />
        <source>Split…</source>
        <translation>拆分…</translation>
    </message>
    <message>
        <location filename="../resolution_panel.py" line="157" />
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location filename="../resolution_panel.py" line="230" />
        <source>{n} pairs waiting for review</source>
        <translation>{n} 对待核验</translation>
    </message>
    <message>
        <location filename="../resolution_panel.py" line="244" />
        <source>matching persons …</source>
        <translation>正在匹配人员 …</translation>
    </message>
    <message>
        <location filename="../resolution_panel.py" line="266" />
        <source>Split</source>
        <translation>拆分</translation>
    </message>
    <message>
        <location filename="../resolution_panel.py" line="266" />
        <source>Entity to split off (e.g. person:…):</source>
        <translation>要拆分出的实体（例如 person:…）：</translation>
    </message>
    <message>
        <location filename="../resolution_panel.py" line="278" />
        <source>sending the decision …</source>
        <translation>正在提交决定 …</translation>
    </message>
    <message>
        <location filename="../resolution_panel.py" line="320" />
        <source>marked 'not sure' by {user}</source>
        <translation>{user} 标记为“不确定”</translation>
    </message>
    <message>
        <location filename="../resolution_panel.py" line="328" />
        <source>one cluster of {n} records; weakest link {a} ≈ {b} ({s})</source>
        <translation>同一聚类共 {n} 条记录；最弱关联 {a} ≈ {b}（{s}）</translation>
    </message>
</context><context>
    <name>SearchPanel</name>
    <message>
        <location filename="../search_panel.py" line="93" />
        <source>Search all sources (Ctrl+K), e.g. 入室盗窃 source:incidents</source>
        <translation>检索全部数据源（Ctrl+K），例如 入室盗窃 source:incidents</translation>
    </message>
    <message>
        <location filename="../search_panel.py" line="102" />
        <source>?</source>
        <translation>?</translation>
    </message>
    <message>
        <location filename="../search_panel.py" line="104" />
        <source>query syntax</source>
        <translation>检索语法</translation>
    </message>
    <message>
        <location filename="../search_panel.py" line="107" />
        <source>relevance</source>
        <translation>相关度</translation>
    </message>
    <message>
        <location filename="../search_panel.py" line="108" />
        <source>newest first</source>
        <translation>最新优先</translation>
    </message>
    <message>
        <location filename="../search_panel.py" line="109" />
        <source>oldest first</source>
        <translation>最早优先</translation>
    </message>
    <message>
        <location filename="../search_panel.py" line="114" />
        <source>all time</source>
        <translation>全部时间</translation>
    </message>
    <message>
        <location filename="../search_panel.py" line="117" />
        <source>Searches cover the last {n} days unless you pick days in the 'day' facet or tick this ([search] default_window_days)</source>
        <translation>检索默认只覆盖最近 {n} 天；在“day”分面中选择日期或勾选此项可扩大范围（[search] default_window_days）</translation>
    </message>
    <message>
        <location filename="../search_panel.py" line="132" />
        <source>Pin search</source>
        <translation>固定检索</translation>
    </message>
    <message>
        <location filename="../search_panel.py" line="134" />
        <source>pin this query to the case open in the Cases dock, with its hit count now (the case shows the count when pinned and now; facet filters are not part of it)</source>
        <translation>将此检索式固定到“案件”面板中打开的案件，并记录当前命中数（案件中显示固定时与现在的命中数；分面筛选不包含在内）</translation>
    </message>
    <message>
        <location filename="../search_panel.py" line="170" />
        <source>Type a query and press Enter.</source>
        <translation>输入检索条件后按回车。</translation>
    </message>
    <message>
        <location filename="../search_panel.py" line="288" />
        <source> in the last {n} days (tick 'all time' for older records)</source>
        <translation>（最近 {n} 天；勾选“全部时间”可检索更早的记录）</translation>
    </message>
    <message>
        <location filename="../search_panel.py" line="292" />
        <source>{n} hits in {ms} ms</source>
        <translation>{n} 条命中，用时 {ms} 毫秒</translation>
    </message>
    <message>
        <location filename="../search_panel.py" line="301" />
        <source> — {n} loaded</source>
        <translation> — 已加载 {n}</translation>
    </message>
    <message>
        <location filename="../search_panel.py" line="309" />
        <source>source</source>
        <translation>来源</translation>
    </message>
    <message>
        <location filename="../search_panel.py" line="310" />
        <source>type</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../search_panel.py" line="311" />
        <source>category</source>
        <translation>类别</translation>
    </message>
    <message>
        <location filename="../search_panel.py" line="312" />
        <source>district</source>
        <translation>辖区</translation>
    </message>
    <message>
        <location filename="../search_panel.py" line="313" />
        <source>day</source>
        <translation>日期</translation>
    </message>
</context><context>
    <name>StartDialog</name>
    <message>
        <location filename="../startup.py" line="61" />
        <source>superbrain — no workspace yet</source>
        <translation>superbrain — 尚无工作区</translation>
    </message>
    <message>
        <location filename="../startup.py" line="69" />
        <source>There is no workspace at {path} yet.

Build the demo workspace there: seven synthetic sources of 嘉兴 (residents, 110 incidents, plate reads, calls, e-bike tags, hotels, a watchlist) with planted suspect networks, 40 police units and a live shift of incidents. It takes about a minute.</source>
        <translation>{path} 处还没有工作区。

可在此生成演示工作区：嘉兴的七个模拟数据源（人口、110警情、卡口过车、通话、电动车标签、旅馆、布控名单），含预置的嫌疑人关系网、40个警力单元和一个正在进行的值班警情。约需一分钟。</translation>
    </message>
    <message>
        <location filename="../startup.py" line="86" />
        <source>Build the demo workspace</source>
        <translation>生成演示工作区</translation>
    </message>
    <message>
        <location filename="../startup.py" line="87" />
        <source>Open a workspace folder…</source>
        <translation>打开工作区文件夹…</translation>
    </message>
    <message>
        <location filename="../startup.py" line="88" />
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../startup.py" line="127" />
        <source>Building the demo workspace…</source>
        <translation>正在生成演示工作区…</translation>
    </message>
    <message>
        <location filename="../startup.py" line="146" />
        <source>Cancelling after the current batch…</source>
        <translation>当前批次完成后取消…</translation>
    </message>
    <message>
        <location filename="../startup.py" line="171" />
        <source>Cancelled. Build again to finish it (what is done is kept), or open another folder.</source>
        <translation>已取消。再次生成可继续完成（已完成部分会保留），或打开其他文件夹。</translation>
    </message>
    <message>
        <location filename="../startup.py" line="178" />
        <source>The demo build failed (exit code {code}); its output is above.</source>
        <translation>演示工作区生成失败（退出码 {code}），输出见上方。</translation>
    </message>
    <message>
        <location filename="../startup.py" line="184" />
        <source>Open a workspace folder</source>
        <translation>打开工作区文件夹</translation>
    </message>
    <message>
        <location filename="../startup.py" line="192" />
        <source>{path} is not a superbrain workspace (it has no superbrain.toml).</source>
        <translation>{path} 不是 superbrain 工作区（没有 superbrain.toml）。</translation>
    </message>
</context><context>
    <name>TimelinePanel</name>
    <message>
        <location filename="../timeline_panel.py" line="65" />
        <source>entity ids (comma separated), or select nodes in the link chart</source>
        <translation>实体编号（逗号分隔），或在关系图谱中选择节点</translation>
    </message>
    <message>
        <location filename="../timeline_panel.py" line="68" />
        <source>Use chart selection</source>
        <translation>使用图谱选择</translation>
    </message>
    <message>
        <location filename="../timeline_panel.py" line="91" />
        <source>time-wheel: records by weekday × hour (local time)</source>
        <translation>时间轮：按星期 × 小时统计（本地时间）</translation>
    </message>
    <message>
        <location filename="../timeline_panel.py" line="199" />
        <source>{n} records about {entities} entities; click a point to open its record</source>
        <translation>{entities} 个实体相关记录 {n} 条；点击数据点打开记录</translation>
    </message>
    <message>
        <location filename="../timeline_panel.py" line="205" />
        <source>{early} earlier and {late} later records lie far outside and are drawn at the edges (▶ ◀)</source>
        <translation>另有较早 {early} 条、较晚 {late} 条记录远在主要时段之外，画在两端（▶ ◀）</translation>
    </message>
</context></TS>