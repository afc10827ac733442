-- chibi.sql: the reference data of 赤壁市 (Chibi, Hubei): its townships,
-- streets and parks, the kinds of township, its industry clusters, the
-- usual enterprise labels (重点企业 and 规上 mark a key enterprise for the
-- coverage checks), enterprise statuses, production statuses and problem
-- categories: the lists baobao was built with.
--
-- For: a database that serves 赤壁市. scripts/run loads it into the
-- embedded cluster before the demo data; the integration tests load it into
-- every test database (tests/integration/harness.c). Another county writes
-- its own file of the same shape (README.md, "Reference data (another
-- county)") or manages the lists with the ref.* methods.
-- Not for: the schema (sql/015_reference_data.sql has the tables, the
-- checks and what each kind means), or records (data/demo.sql).
--
-- Plain SQL (no psql commands), one transaction, idempotent: loading it
-- again adds nothing and changes nothing (ON CONFLICT DO NOTHING), so it
-- is safe on a database that has these rows already (from
-- sql/001_schema.sql before it moved here, or an earlier load). Load it
-- once: a value an admin renamed since would come back under its old name.
-- Townships keep their ids (records reference them by id; the list's order
-- is the id order). Kinds of township come first: a township's kind is
-- checked against them.

BEGIN;

INSERT INTO ref_value (kind, value, sort_order) VALUES
    ('township_kind', '街道', 10),
    ('township_kind', '镇', 20),
    ('township_kind', '乡', 30),
    ('township_kind', '园区', 40)
ON CONFLICT (kind, value) DO NOTHING;

INSERT INTO township (id, name, kind) VALUES
    (1, '蒲圻街道', '街道'),
    (2, '陆水湖街道', '街道'),
    (3, '赤马港街道', '街道'),
    (4, '赤壁镇', '镇'),
    (5, '新店镇', '镇'),
    (6, '赵李桥镇', '镇'),
    (7, '茶庵岭镇', '镇'),
    (8, '车埠镇', '镇'),
    (9, '中伙铺镇', '镇'),
    (10, '官塘驿镇', '镇'),
    (11, '神山镇', '镇'),
    (12, '柳山湖镇', '镇'),
    (13, '黄盖湖镇', '镇'),
    (14, '余家桥乡', '乡'),
    (15, '高新技术产业园区', '园区'),
    (16, '新材料产业园', '园区'),
    (17, '美丽健康产业园', '园区')
ON CONFLICT DO NOTHING;

INSERT INTO ref_value (kind, value, sort_order) VALUES
    ('cluster', '青砖茶', 10),
    ('cluster', '电子信息', 20),
    ('cluster', '纺织服装', 30),
    ('cluster', '电力能源', 40),
    ('cluster', '安全应急', 50),
    ('cluster', '大健康', 60),
    ('cluster', '新材料', 70),
    ('cluster', '节能环保', 80)
ON CONFLICT (kind, value) DO NOTHING;

-- Labels are an open list: these are offered, any other is accepted too.
INSERT INTO ref_value (kind, value, sort_order, marks_key) VALUES
    ('label', '重点企业', 10, true),
    ('label', '规上', 20, true),
    ('label', '小微入规培育库', 30, false),
    ('label', '高新技术企业', 40, false),
    ('label', '专精特新"小巨人"', 50, false),
    ('label', '隐形冠军', 60, false)
ON CONFLICT (kind, value) DO NOTHING;

INSERT INTO ref_value (kind, value, sort_order) VALUES
    ('enterprise_status', '在营', 10),
    ('enterprise_status', '半停产', 20),
    ('enterprise_status', '停产', 30),
    ('enterprise_status', '筹建', 40),
    ('enterprise_status', '注销', 50),
    ('production_status', '正常', 10),
    ('production_status', '半停产', 20),
    ('production_status', '停产', 30),
    ('production_status', '在建', 40),
    ('problem_category', '用地', 10),
    ('problem_category', '用工', 20),
    ('problem_category', '融资', 30),
    ('problem_category', '用电', 40),
    ('problem_category', '审批', 50),
    ('problem_category', '物流', 60),
    ('problem_category', '市场', 70),
    ('problem_category', '其他', 80)
ON CONFLICT (kind, value) DO NOTHING;

COMMIT;
