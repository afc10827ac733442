-- demo.sql: demonstration data for a fresh baobao database: twenty
-- enterprises of 赤壁市 and a few months of status reports for each. The
-- first ten names, the parks and the clusters come from the city's 包保
-- policy text, four more from its project list (维达力, 中亮光电, 壹嘉,
-- 科蓝特); the remaining six, and every figure, are made up.
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

COMMIT;
