-- demo.sql: demonstration data for a fresh baobao database: twenty
-- enterprises of 赤壁市 and a few months of status reports for each; the
-- seven investment projects of the city's plan with their milestone plans;
-- the units and officials who hold them (包保 assignments, with some gaps
-- left on purpose); and problems (诉求) at every step of their workflow.
-- The first ten enterprise names, the parks and the clusters come from the
-- city's 包保 policy text, four more and the projects with their planned
-- investments from its project list (维达力四期 30亿, 人福药辅迁扩建 10亿,
-- 科蓝特铝材 6亿, 壹嘉制衣 5.2亿, 北京双吉制药 5亿, 中亮光电二期 5亿,
-- 华润电力三期); everything else (the other six enterprises, every person,
-- every figure not listed here, 华润电力三期's investment) is made up.
--
-- The heart of the product must show on the first try: milestone dates and
-- problem deadlines count from the day the file is loaded, placed so that
-- `baobao overdue milestones` and `overdue problems` show red rows (late by
-- more than overdue_red_after_days, 30 by default) and yellow ones (late by
-- 1-30 days) at once, `due ...` shows what falls due within two weeks, and
-- each late row names its responsible people.
--
-- For: scripts/run, which loads it once into the embedded cluster, and for
-- trying the CLI. Not for: tests (they make their own data) or production.
-- Needs the migrations (sql/) applied and the reference data of 赤壁市
-- (data/reference/chibi.sql: townships, clusters, statuses) loaded first.
-- Idempotent: loading it twice adds nothing (enterprises are keyed by credit
-- code, reports by enterprise, reporter and note). The credit codes are
-- made up for region 421281 (赤壁市) but valid: their check character is
-- computed as in proto/PROTOCOL.md. Report dates count back from the day the
-- file is loaded, so the demo always shows "the last few months".
-- Output values are whole yuan (产值, monthly).

BEGIN;

INSERT INTO enterprise (name, credit_code, township_id, cluster, labels, status)
SELECT v.name, v.credit_code,
       (SELECT t.id FROM township t WHERE t.name = v.township),
       v.cluster, v.labels, v.status
FROM (VALUES
    ('住方科技', '91421281MAJYQJFLNH', '高新技术产业园区', '电子信息', ARRAY['规上', '高新技术企业']::text[], '在营'),
    ('高正新材料', '91421281MA407J3CX3', '新材料产业园', '新材料', ARRAY['规上', '高新技术企业', '专精特新"小巨人"']::text[], '在营'),
    ('龙兴无纺布', '91421281MA3CTYW3LE', '赤马港街道', '纺织服装', ARRAY['规上']::text[], '在营'),
    ('凯利隆', '91421281MAMQD33CF1', '美丽健康产业园', '大健康', ARRAY['规上', '高新技术企业']::text[], '在营'),
    ('泽翰实业', '91421281MAEU764D0W', '车埠镇', '纺织服装', ARRAY['小微入规培育库']::text[], '半停产'),
    ('润坊卫生湿巾', '91421281MA5RA7UL08', '美丽健康产业园', '大健康', ARRAY['小微入规培育库']::text[], '在营'),
    ('诚森桦泰智能电子数码', '91421281MAJFBRBPHM', '高新技术产业园区', '电子信息', ARRAY['规上', '专精特新"小巨人"']::text[], '在营'),
    ('荟海药业', '91421281MA0FUDXR12', '美丽健康产业园', '大健康', ARRAY['规上', '高新技术企业']::text[], '在营'),
    ('华润蒲圻电厂', '91421281MA7NC33KB8', '蒲圻街道', '电力能源', ARRAY['规上']::text[], '在营'),
    ('思贝林药业', '91421281MAPU0FGQ5E', '美丽健康产业园', '大健康', ARRAY['规上', '高新技术企业', '隐形冠军']::text[], '在营'),
    ('赵李桥砖茶厂', '91421281MAKQEE4900', '赵李桥镇', '青砖茶', ARRAY['规上', '隐形冠军']::text[], '在营'),
    ('羊楼洞茶业', '91421281MAT1K2D3TD', '赵李桥镇', '青砖茶', ARRAY['规上', '高新技术企业']::text[], '在营'),
    ('维达力科技', '91421281MAQ5A52WCB', '高新技术产业园区', '电子信息', ARRAY['规上', '高新技术企业', '专精特新"小巨人"']::text[], '在营'),
    ('中亮光电', '91421281MAJGFXURLA', '高新技术产业园区', '电子信息', ARRAY['规上', '高新技术企业']::text[], '在营'),
    ('壹嘉制衣', '91421281MAW8HLACM7', '新店镇', '纺织服装', ARRAY[]::text[], '筹建'),
    ('科蓝特铝材', '91421281MA87TDF30X', '新材料产业园', '新材料', ARRAY[]::text[], '筹建'),
    ('柳山湖应急装备', '91421281MAN4UGJ8EU', '柳山湖镇', '安全应急', ARRAY['小微入规培育库']::text[], '在营'),
    ('陆水湖环保科技', '91421281MAWWRMMRLQ', '陆水湖街道', '节能环保', ARRAY['高新技术企业']::text[], '在营'),
    ('神山竹木制品', '91421281MAJU4PKB85', '神山镇', NULL, ARRAY[]::text[], '停产'),
    ('官塘驿农产品加工', '91421281MAL0YTHDLN', '官塘驿镇', NULL, ARRAY['小微入规培育库']::text[], '在营')
) AS v(name, credit_code, township, cluster, labels, status)
ON CONFLICT (credit_code) DO NOTHING;

INSERT INTO status_report (enterprise_id, report_date, reporter, production_status,
                           output_value, employees, labour_shortage, note)
SELECT e.id, current_date - v.days_ago, v.reporter, v.production_status,
       v.output_value, v.employees, v.labour_shortage, v.note
FROM (VALUES
    ('91421281MAJYQJFLNH', 103, '刘洋', '正常', 30870000::bigint, 426, 29, '企业反映用电成本偏高，已转科信局协调。'),
    ('91421281MAJYQJFLNH', 67, '刘洋', '正常', 29384000::bigint, 413, 31, '新厂房主体完工，设备进场调试中。'),
    ('91421281MAJYQJFLNH', 36, '李娜', '正常', 31478000::bigint, 434, 22, '生产经营平稳，企业无新增诉求。'),
    ('91421281MAJYQJFLNH', 13, '刘洋', '正常', 36515000::bigint, 412, 30, '缺普工，已对接人社局组织专场招聘。'),
    ('91421281MA407J3CX3', 103, '陈静', '正常', 62023000::bigint, 320, 10, '缺普工，已对接人社局组织专场招聘。'),
    ('91421281MA407J3CX3', 66, '陈静', '正常', 51084000::bigint, 323, 12, '生产正常，订单饱满。'),
    ('91421281MA407J3CX3', 44, '郑浩', '正常', 56804000::bigint, 297, 15, '订单排到下季度，计划增开一条生产线。'),
    ('91421281MA407J3CX3', 10, '陈静', '正常', 50557000::bigint, 303, 12, '企业申报高新技术企业复审，材料已报送。'),
    ('91421281MA3CTYW3LE', 102, '王强', '正常', 18727000::bigint, 268, 27, '缺普工，已对接人社局组织专场招聘。'),
    ('91421281MA3CTYW3LE', 68, '王强', '正常', 17041000::bigint, 250, 25, '生产正常，订单饱满。'),
    ('91421281MA3CTYW3LE', 40, '王强', '正常', 17026000::bigint, 248, 39, '订单排到下季度，计划增开一条生产线。'),
    ('91421281MA3CTYW3LE', 12, '王强', '正常', 19606000::bigint, 249, 23, '企业申报高新技术企业复审，材料已报送。'),
    ('91421281MAMQD33CF1', 103, '周婷', '正常', 38984000::bigint, 648, 49, '订单排到下季度，计划增开一条生产线。'),
    ('91421281MAMQD33CF1', 69, '周婷', '正常', 37490000::bigint, 656, 29, '企业申报高新技术企业复审，材料已报送。'),
    ('91421281MAMQD33CF1', 38, '孙丽', '正常', 38915000::bigint, 709, 42, '生产正常，本月产值环比增长。'),
    ('91421281MAMQD33CF1', 9, '周婷', '正常', 40632000::bigint, 699, 32, '企业反映用电成本偏高，已转科信局协调。'),
    ('91421281MAEU764D0W', 100, '黄磊', '半停产', 2895000::bigint, 42, 0, '受外贸订单下滑影响，两条生产线停了一条。'),
    ('91421281MAEU764D0W', 66, '黄磊', '半停产', 2742000::bigint, 42, 0, '原料涨价，间歇生产，正在对接新客户。'),
    ('91421281MAEU764D0W', 43, '黄磊', '半停产', 2732000::bigint, 44, 0, '企业反映流动资金紧张，希望协调银行续贷。'),
    ('91421281MAEU764D0W', 8, '黄磊', '半停产', 2550000::bigint, 46, 0, '部分工人放假，恢复生产时间待定。
下次走访跟进银企对接结果。'),
    ('91421281MA5RA7UL08', 98, '周婷', '正常', 5453000::bigint, 87, 8, '企业申报高新技术企业复审，材料已报送。'),
    ('91421281MA5RA7UL08', 70, '周婷', '正常', 5533000::bigint, 90, 7, '生产正常，本月产值环比增长。'),
    ('91421281MA5RA7UL08', 43, '孙丽', '正常', 5344000::bigint, 90, 9, '企业反映用电成本偏高，已转科信局协调。'),
    ('91421281MA5RA7UL08', 6, '周婷', '正常', 4909000::bigint, 88, 8, '新厂房主体完工，设备进场调试中。'),
    ('91421281MAJFBRBPHM', 96, '刘洋', '正常', 30017000::bigint, 503, 56, '生产经营平稳，企业无新增诉求。'),
    ('91421281MAJFBRBPHM', 73, '刘洋', '正常', 28623000::bigint, 555, 77, '新项目投产在即，缺技术工人约60人，请人社局协助招聘。'),
    ('91421281MAJFBRBPHM', 36, '李娜', '正常', 25702000::bigint, 548, 54, '生产正常，订单饱满。'),
    ('91421281MAJFBRBPHM', 10, '刘洋', '正常', 24518000::bigint, 528, 64, '订单排到下季度，计划增开一条生产线。'),
    ('91421281MA0FUDXR12', 99, '杨帆', '正常', 22671000::bigint, 214, 3, '企业反映用电成本偏高，已转科信局协调。'),
    ('91421281MA0FUDXR12', 71, '杨帆', '正常', 22399000::bigint, 207, 3, '新厂房主体完工，设备进场调试中。'),
    ('91421281MA0FUDXR12', 36, '杨帆', '正常', 24297000::bigint, 218, 5, '生产经营平稳，企业无新增诉求。'),
    ('91421281MA0FUDXR12', 10, '杨帆', '正常', 22309000::bigint, 206, 3, '缺普工，已对接人社局组织专场招聘。'),
    ('91421281MA7NC33KB8', 97, '张伟', '正常', 379931000::bigint, 385, 0, '企业申报高新技术企业复审，材料已报送。'),
    ('91421281MA7NC33KB8', 70, '张伟', '正常', 423043000::bigint, 372, 0, '生产正常，本月产值环比增长。'),
    ('91421281MA7NC33KB8', 39, '张伟', '正常', 397722000::bigint, 384, 0, '企业反映用电成本偏高，已转科信局协调。'),
    ('91421281MA7NC33KB8', 8, '张伟', '正常', 395946000::bigint, 396, 0, '新厂房主体完工，设备进场调试中。'),
    ('91421281MAPU0FGQ5E', 99, '杨帆', '正常', 37583000::bigint, 332, 8, '缺普工，已对接人社局组织专场招聘。'),
    ('91421281MAPU0FGQ5E', 74, '杨帆', '正常', 34567000::bigint, 363, 7, '生产正常，订单饱满。'),
    ('91421281MAPU0FGQ5E', 41, '杨帆', '正常', 34557000::bigint, 343, 9, '订单排到下季度，计划增开一条生产线。'),
    ('91421281MAPU0FGQ5E', 5, '杨帆', '正常', 41334000::bigint, 337, 12, '企业申报高新技术企业复审，材料已报送。'),
    ('91421281MAKQEE4900', 100, '赵敏', '正常', 15089000::bigint, 184, 15, '企业申报高新技术企业复审，材料已报送。'),
    ('91421281MAKQEE4900', 70, '赵敏', '正常', 16580000::bigint, 189, 16, '生产正常，本月产值环比增长。'),
    ('91421281MAKQEE4900', 40, '赵敏', '正常', 17149000::bigint, 188, 12, '企业反映用电成本偏高，已转科信局协调。'),
    ('91421281MAKQEE4900', 11, '赵敏', '正常', 15037000::bigint, 185, 17, '新厂房主体完工，设备进场调试中。'),
    ('91421281MAT1K2D3TD', 99, '赵敏', '正常', 10323000::bigint, 122, 8, '缺普工，已对接人社局组织专场招聘。'),
    ('91421281MAT1K2D3TD', 74, '赵敏', '正常', 8666000::bigint, 122, 4, '生产正常，订单饱满。'),
    ('91421281MAT1K2D3TD', 42, '赵敏', '正常', 10083000::bigint, 119, 8, '订单排到下季度，计划增开一条生产线。'),
    ('91421281MAT1K2D3TD', 8, '赵敏', '正常', 10291000::bigint, 122, 5, '企业申报高新技术企业复审，材料已报送。'),
    ('91421281MAQ5A52WCB', 96, '刘洋', '正常', 293943000::bigint, 3123, 109, '缺普工，已对接人社局组织专场招聘。'),
    ('91421281MAQ5A52WCB', 70, '刘洋', '正常', 235425000::bigint, 2945, 196, '生产正常，订单饱满。'),
    ('91421281MAQ5A52WCB', 38, '李娜', '正常', 284414000::bigint, 3176, 174, '订单排到下季度，计划增开一条生产线。'),
    ('91421281MAQ5A52WCB', 12, '刘洋', '正常', 251798000::bigint, 3004, 120, '企业申报高新技术企业复审，材料已报送。'),
    ('91421281MAJGFXURLA', 96, '李娜', '正常', 37840000::bigint, 465, 35, '企业反映用电成本偏高，已转科信局协调。'),
    ('91421281MAJGFXURLA', 72, '李娜', '正常', 36566000::bigint, 477, 32, '新厂房主体完工，设备进场调试中。'),
    ('91421281MAJGFXURLA', 43, '李娜', '正常', 35974000::bigint, 456, 37, '生产经营平稳，企业无新增诉求。'),
    ('91421281MAJGFXURLA', 9, '李娜', '正常', 30485000::bigint, 475, 26, '缺普工，已对接人社局组织专场招聘。'),
    ('91421281MAW8HLACM7', 97, '吴刚', '在建', NULL::bigint, 19, 0, '项目已签约，正在办理施工许可。'),
    ('91421281MAW8HLACM7', 72, '吴刚', '在建', NULL::bigint, 21, 0, '土建施工中，预计年底主体封顶。'),
    ('91421281MAW8HLACM7', 36, '吴刚', '在建', NULL::bigint, 20, 0, '钢结构厂房吊装中，进度正常。'),
    ('91421281MAW8HLACM7', 7, '吴刚', '在建', NULL::bigint, 20, 0, '设备采购合同已签，等待安装。'),
    ('91421281MA87TDF30X', 104, '陈静', '在建', NULL::bigint, 14, 0, '项目已签约，正在办理施工许可。'),
    ('91421281MA87TDF30X', 68, '陈静', '在建', NULL::bigint, 15, 0, '土建施工中，预计年底主体封顶。'),
    ('91421281MA87TDF30X', 37, '郑浩', '在建', NULL::bigint, 14, 0, '钢结构厂房吊装中，进度正常。'),
    ('91421281MA87TDF30X', 9, '陈静', '在建', NULL::bigint, 14, 0, '设备采购合同已签，等待安装。'),
    ('91421281MAN4UGJ8EU', 99, '孙丽', '正常', 3927000::bigint, 57, 5, '新厂房主体完工，设备进场调试中。'),
    ('91421281MAN4UGJ8EU', 69, '孙丽', '正常', 3352000::bigint, 57, 5, '生产经营平稳，企业无新增诉求。'),
    ('91421281MAN4UGJ8EU', 40, '孙丽', '正常', 4358000::bigint, 61, 4, '缺普工，已对接人社局组织专场招聘。'),
    ('91421281MAN4UGJ8EU', 5, '孙丽', '正常', 4172000::bigint, 58, 4, '生产正常，订单饱满。'),
    ('91421281MAWWRMMRLQ', 102, '郑浩', '正常', 5767000::bigint, 85, 4, '新厂房主体完工，设备进场调试中。'),
    ('91421281MAWWRMMRLQ', 72, '郑浩', '正常', 6235000::bigint, 84, 3, '生产经营平稳，企业无新增诉求。'),
    ('91421281MAWWRMMRLQ', 37, '郑浩', '正常', 6975000::bigint, 86, 3, '缺普工，已对接人社局组织专场招聘。'),
    ('91421281MAWWRMMRLQ', 7, '郑浩', '正常', 5793000::bigint, 83, 2, '生产正常，订单饱满。'),
    ('91421281MAJU4PKB85', 103, '马超', '停产', 0::bigint, 5, 0, '企业停产，厂房闲置，正在洽谈盘活方案。'),
    ('91421281MAJU4PKB85', 68, '马超', '停产', 0::bigint, 5, 0, '停产，看管人员2人，土地及厂房拟对外出租。'),
    ('91421281MAJU4PKB85', 40, '马超', '停产', 0::bigint, 5, 0, '已对接意向企业一家，实地看厂。'),
    ('91421281MAJU4PKB85', 8, '马超', '停产', 0::bigint, 6, 0, '停产状态未变。'),
    ('91421281MAL0YTHDLN', 104, '何军', '正常', 2212000::bigint, 38, 1, '生产正常，订单饱满。'),
    ('91421281MAL0YTHDLN', 73, '何军', '正常', 2012000::bigint, 41, 2, '订单排到下季度，计划增开一条生产线。'),
    ('91421281MAL0YTHDLN', 44, '何军', '正常', 2412000::bigint, 39, 2, '企业申报高新技术企业复审，材料已报送。'),
    ('91421281MAL0YTHDLN', 6, '何军', '正常', 1850000::bigint, 41, 2, '生产正常，本月产值环比增长。')
) AS v(credit_code, days_ago, reporter, production_status,
        output_value, employees, labour_shortage, note)
JOIN enterprise e ON e.credit_code = v.credit_code
WHERE NOT EXISTS (SELECT 1 FROM status_report s
                  WHERE s.enterprise_id = e.id AND s.reporter = v.reporter
                    AND s.note = v.note)
-- ids in the order of the visits
ORDER BY e.id, v.days_ago DESC;

-- ---- units and officials (made up) ----
INSERT INTO unit (name)
SELECT v.name
FROM (VALUES ('科信局'), ('招商办'), ('发改局'), ('自然资源和规划局'), ('人社局'),
             ('住建局'), ('供电公司'), ('高新区管委会')) AS v(name)
ON CONFLICT (name) DO NOTHING;

-- Officials are keyed by name (the demo has no two of one name).
INSERT INTO official (name, title, unit_id, phone)
SELECT v.name, v.title, (SELECT u.id FROM unit u WHERE u.name = v.unit), v.phone
FROM (VALUES
    ('张建国', '副市长', NULL, '0715-5200001'),
    ('刘卫东', '市政府副秘书长', NULL, '0715-5200002'),
    ('黄志刚', '副局长', '科信局', '0715-5200011'),
    ('周敏', '副主任', '招商办', '0715-5200012'),
    ('吴涛', '副局长', '发改局', '0715-5200013'),
    ('郑华', '科长', '自然资源和规划局', '0715-5200014'),
    ('孙丽', '科长', '人社局', '0715-5200015'),
    ('马强', '副主任', '高新区管委会', '0715-5200016')
) AS v(name, title, unit, phone)
WHERE NOT EXISTS (SELECT 1 FROM official o WHERE o.name = v.name);

-- ---- the seven projects of the plan ----
-- Planned investments in yuan. 华润电力三期 has no figure in the plan: 50亿
-- is made up. Projects are keyed by name.
INSERT INTO project (name, enterprise_id, cluster, planned_investment, priority, lead_unit_id,
                     township_id, stage)
SELECT v.name, (SELECT e.id FROM enterprise e WHERE e.credit_code = v.investor), v.cluster,
       v.investment, v.priority, (SELECT u.id FROM unit u WHERE u.name = v.lead),
       (SELECT t.id FROM township t WHERE t.name = v.township), v.stage
FROM (VALUES
    ('维达力四期（苹果产业园）', '91421281MAQ5A52WCB', '电子信息', 3000000000::bigint, '省级重点',
     '招商办', '高新技术产业园区', '开工'),
    ('人福药辅迁扩建', NULL, '大健康', 1000000000::bigint, '省级重点',
     '发改局', '美丽健康产业园', '注册'),
    ('科蓝特铝材及PE管道华中生产基地', '91421281MA87TDF30X', '新材料', 600000000::bigint, '市级重点',
     '招商办', '新材料产业园', '签约'),
    ('壹嘉制衣', '91421281MAW8HLACM7', '纺织服装', 520000000::bigint, '市级重点',
     '科信局', '新店镇', '注册'),
    ('北京双吉制药', NULL, '大健康', 500000000::bigint, '市级重点',
     '招商办', '美丽健康产业园', '洽谈'),
    ('中亮光电二期', '91421281MAJGFXURLA', '电子信息', 500000000::bigint, '市级重点',
     '科信局', '高新技术产业园区', '开工'),
    ('华润电力三期', '91421281MA7NC33KB8', '电力能源', 5000000000::bigint, '省级重点',
     '发改局', '蒲圻街道', '研判')
) AS v(name, investor, cluster, investment, priority, lead, township, stage)
WHERE NOT EXISTS (SELECT 1 FROM project p WHERE p.name = v.name);

-- The milestone plans, days from the load day: negative is past. A node
-- with done set was reached on its planned day; an open node in the past
-- is late: by more than 30 days red, by 1-30 yellow.
--   red:    维达力四期 投产 (-45), 科蓝特 注册 (-40), 中亮光电二期 投产 (-60)
--   yellow: 人福 开工 (-12), 壹嘉 开工 (-30), 北京双吉 签约 (-5)
-- 壹嘉 开工 (and the problem of 龙兴无纺布 below, also 30 days late) turns
-- red the day after loading: moving the pinned clock a day
-- (`./scripts/run --set fake_now=<tomorrow>T09:00:00+08:00`) makes the
-- sweep issue 红牌 notices (PROTOCOL.md, "Supervision: lights and notices").
--   due within two weeks: 华润电力三期 签约 (+10), 科蓝特 开工 (+6)
INSERT INTO project_milestone (project_id, node, planned_date, actual_date)
SELECT p.id, v.node, current_date + v.planned,
       CASE WHEN v.done THEN current_date + v.planned END
FROM (VALUES
    ('维达力四期（苹果产业园）', '签约', -300, true), ('维达力四期（苹果产业园）', '注册', -260, true),
    ('维达力四期（苹果产业园）', '开工', -150, true), ('维达力四期（苹果产业园）', '投产', -45, false),
    ('维达力四期（苹果产业园）', '竣工', 200, false),
    ('人福药辅迁扩建', '签约', -200, true), ('人福药辅迁扩建', '注册', -150, true),
    ('人福药辅迁扩建', '开工', -12, false), ('人福药辅迁扩建', '投产', 180, false),
    ('人福药辅迁扩建', '竣工', 400, false),
    ('科蓝特铝材及PE管道华中生产基地', '签约', -90, true),
    ('科蓝特铝材及PE管道华中生产基地', '注册', -40, false),
    ('科蓝特铝材及PE管道华中生产基地', '开工', 6, false),
    ('科蓝特铝材及PE管道华中生产基地', '投产', 240, false),
    ('科蓝特铝材及PE管道华中生产基地', '竣工', 420, false),
    ('壹嘉制衣', '签约', -150, true), ('壹嘉制衣', '注册', -100, true),
    ('壹嘉制衣', '开工', -30, false), ('壹嘉制衣', '投产', 150, false), ('壹嘉制衣', '竣工', 300, false),
    ('北京双吉制药', '签约', -5, false), ('北京双吉制药', '注册', 25, false),
    ('北京双吉制药', '开工', 90, false), ('北京双吉制药', '投产', 360, false),
    ('北京双吉制药', '竣工', 540, false),
    ('中亮光电二期', '签约', -365, true), ('中亮光电二期', '注册', -330, true),
    ('中亮光电二期', '开工', -200, true), ('中亮光电二期', '投产', -60, false),
    ('中亮光电二期', '竣工', 90, false),
    ('华润电力三期', '签约', 10, false), ('华润电力三期', '注册', 60, false),
    ('华润电力三期', '开工', 180, false), ('华润电力三期', '投产', 720, false),
    ('华润电力三期', '竣工', 900, false)
) AS v(project, node, planned, done)
JOIN project p ON p.name = v.project
ON CONFLICT (project_id, node) DO NOTHING;

-- How each project got to its stage (project.history).
INSERT INTO project_stage_event (project_id, from_stage, to_stage, reason)
SELECT p.id, NULL, p.stage, '演示数据：导入时的阶段'
FROM project p
WHERE p.name IN ('维达力四期（苹果产业园）', '人福药辅迁扩建', '科蓝特铝材及PE管道华中生产基地',
                 '壹嘉制衣', '北京双吉制药', '中亮光电二期', '华润电力三期')
  AND NOT EXISTS (SELECT 1 FROM project_stage_event s WHERE s.project_id = p.id);

-- ---- 包保 assignments ----
-- Every project has a 包保市领导, a 责任单位 and a 联络员, except the gaps
-- coverage.gaps should find: 北京双吉制药 has no 包保市领导, 华润电力三期
-- no 责任单位. Key enterprises: the first eight carry assignments, the
-- others are gaps.
INSERT INTO assignment (official_id, unit_id, enterprise_id, project_id, role, period_start)
SELECT o.id, u.id, e.id, p.id, v.role, current_date - 180
FROM (VALUES
    ('project', '维达力四期（苹果产业园）', '包保市领导', '张建国'),
    ('project', '维达力四期（苹果产业园）', '责任单位', '招商办'),
    ('project', '维达力四期（苹果产业园）', '联络员', '马强'),
    ('project', '人福药辅迁扩建', '包保市领导', '刘卫东'),
    ('project', '人福药辅迁扩建', '责任单位', '发改局'),
    ('project', '人福药辅迁扩建', '联络员', '吴涛'),
    ('project', '科蓝特铝材及PE管道华中生产基地', '包保市领导', '张建国'),
    ('project', '科蓝特铝材及PE管道华中生产基地', '责任单位', '自然资源和规划局'),
    ('project', '科蓝特铝材及PE管道华中生产基地', '联络员', '郑华'),
    ('project', '壹嘉制衣', '包保市领导', '刘卫东'),
    ('project', '壹嘉制衣', '责任单位', '科信局'),
    ('project', '壹嘉制衣', '联络员', '黄志刚'),
    ('project', '北京双吉制药', '责任单位', '招商办'),
    ('project', '北京双吉制药', '联络员', '周敏'),
    ('project', '中亮光电二期', '包保市领导', '张建国'),
    ('project', '中亮光电二期', '责任单位', '科信局'),
    ('project', '中亮光电二期', '联络员', '黄志刚'),
    ('project', '华润电力三期', '包保市领导', '刘卫东'),
    ('project', '华润电力三期', '联络员', '吴涛'),
    ('enterprise', '91421281MAJYQJFLNH', '包保市领导', '张建国'),
    ('enterprise', '91421281MAJYQJFLNH', '责任单位', '科信局'),
    ('enterprise', '91421281MA407J3CX3', '包保市领导', '张建国'),
    ('enterprise', '91421281MA407J3CX3', '责任单位', '科信局'),
    ('enterprise', '91421281MA3CTYW3LE', '包保市领导', '刘卫东'),
    ('enterprise', '91421281MA3CTYW3LE', '责任单位', '人社局'),
    ('enterprise', '91421281MAMQD33CF1', '责任单位', '发改局'),
    ('enterprise', '91421281MAEU764D0W', '包保市领导', '刘卫东'),
    ('enterprise', '91421281MAEU764D0W', '责任单位', '科信局'),
    ('enterprise', '91421281MA5RA7UL08', '责任单位', '人社局'),
    ('enterprise', '91421281MAJFBRBPHM', '责任单位', '高新区管委会'),
    ('enterprise', '91421281MA0FUDXR12', '包保市领导', '张建国'),
    ('enterprise', '91421281MA0FUDXR12', '联络员', '孙丽')
) AS v(target, name, role, holder)
LEFT JOIN project p ON v.target = 'project' AND p.name = v.name
LEFT JOIN enterprise e ON v.target = 'enterprise' AND e.credit_code = v.name
LEFT JOIN official o ON v.role <> '责任单位' AND o.name = v.holder
LEFT JOIN unit u ON v.role = '责任单位' AND u.name = v.holder
WHERE NOT EXISTS (SELECT 1 FROM assignment a
                  WHERE a.role = v.role
                    AND a.project_id IS NOT DISTINCT FROM p.id
                    AND a.enterprise_id IS NOT DISTINCT FROM e.id
                    AND a.official_id IS NOT DISTINCT FROM o.id
                    AND a.unit_id IS NOT DISTINCT FROM u.id);

-- ---- problems (诉求), one or more at every step ----
-- Deadlines from the load day: red (more than 30 days late), yellow (1-30),
-- due soon, later; and one closed (确认). Keyed by enterprise and text.
INSERT INTO problem (enterprise_id, category, description, assignee_unit_id,
                     assignee_official_id, deadline, state, closed_at, created_at)
SELECT e.id, v.category, v.description, u.id, o.id, current_date + v.deadline, v.state,
       CASE WHEN v.state = '确认' THEN now() - interval '3 days' END,
       now() - make_interval(days => v.age)
FROM (VALUES
    ('91421281MAJYQJFLNH', '用电', '新厂房用电增容申请已报供电公司两个月，迟迟未批复。',
     '科信局', NULL, -42, '办理', 75),
    ('91421281MA407J3CX3', '用地', '二期扩建用地指标未落实，影响新生产线开工。',
     '自然资源和规划局', '郑华', -35, '交办', 60),
    ('91421281MA3CTYW3LE', '用工', '缺普工约40人，希望人社局组织专场招聘。',
     '人社局', '孙丽', -30, '办理', 30),
    ('91421281MAEU764D0W', '融资', '流动资金紧张，申请对接银行续贷。',
     '科信局', '黄志刚', -3, '反馈', 25),
    ('91421281MAKQEE4900', '物流', '砖茶出口集装箱运力不足，运费上涨。',
     '招商办', NULL, 4, '交办', 10),
    ('91421281MAQ5A52WCB', '审批', '四期厂房施工许可办理进度慢。',
     '住建局', NULL, 12, '办理', 8),
    ('91421281MAT1K2D3TD', '市场', '希望组织参加秋季茶博会，拓展销售渠道。',
     NULL, NULL, 20, '受理', 2),
    ('91421281MAN4UGJ8EU', '用工', '应急装备生产线缺技术工人。',
     '人社局', '孙丽', -15, '确认', 50),
    ('91421281MAJU4PKB85', '其他', '停产厂房盘活，希望帮助对接意向企业。',
     '招商办', '周敏', -50, '交办', 90)
) AS v(credit_code, category, description, unit, official, deadline, state, age)
JOIN enterprise e ON e.credit_code = v.credit_code
LEFT JOIN unit u ON u.name = v.unit
LEFT JOIN official o ON o.name = v.official
WHERE NOT EXISTS (SELECT 1 FROM problem q
                  WHERE q.enterprise_id = e.id AND q.description = v.description);

-- Each problem's steps up to its state (problem.get shows them).
INSERT INTO problem_event (problem_id, at, from_state, to_state, note)
SELECT q.id, q.created_at + make_interval(days => st.i - 1),
       CASE WHEN st.i > 1 THEN (ARRAY['受理', '交办', '办理', '反馈', '确认'])[st.i - 1] END,
       (ARRAY['受理', '交办', '办理', '反馈', '确认'])[st.i], '演示数据'
FROM problem q
CROSS JOIN LATERAL generate_series(1, array_position(ARRAY['受理', '交办', '办理', '反馈', '确认'],
                                                     q.state)) AS st(i)
WHERE q.description IN (
        '新厂房用电增容申请已报供电公司两个月，迟迟未批复。', '二期扩建用地指标未落实，影响新生产线开工。',
        '缺普工约40人，希望人社局组织专场招聘。', '流动资金紧张，申请对接银行续贷。', '砖茶出口集装箱运力不足，运费上涨。',
        '四期厂房施工许可办理进度慢。', '希望组织参加秋季茶博会，拓展销售渠道。',
        '应急装备生产线缺技术工人。', '停产厂房盘活，希望帮助对接意向企业。')
  AND NOT EXISTS (SELECT 1 FROM problem_event pe WHERE pe.problem_id = q.id);

COMMIT;
