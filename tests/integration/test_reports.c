/*
 * test_reports.c: the reports of an export run (server/report.c): the
 * workbook reports.xlsx opened by an independent reader (/usr/bin/python3
 * with openpyxl, Debian package python3-openpyxl) and the page
 * reports.html read as text, both from a real export.run against a real
 * server whose clock is pinned (fake_now 2024-05-20, Beijing).
 *
 * The data set is small and known (inserted with SQL in setup, the same
 * way test_overdue.c does: the methods that write projects, assignments and
 * problems are other files' business), so every figure is checked against
 * a value worked out by hand here: enterprises by status and label per
 * township, output value this month (the last report of the month counts,
 * a report dated after today does not) and this year (a deregistered
 * enterprise's earlier output counts), employees and shortage from the last
 * report, who was not visited this month, projects by stage and cluster in
 * 万元 and 亿元, overdue items by person and unit with their traffic light
 * as a cell fill (and the threshold taken from the configuration), and the
 * coverage gaps. Numbers must be numbers in cells, not text.
 *
 * The page: the same figures, inline SVG charts, lang zh-CN and UTF-8, no
 * script, no URL, no external resource, text escaped; a long list shows
 * its first rows and says how many the workbook has.
 *
 * Not for: the CSV files, the manifest's hashes, the schedule, a run
 * killed part-way (test_export.c). The manifest's row counts of the two
 * report files are checked here, since report.c returns them.
 */
#include "harness.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PYTHON "/usr/bin/python3"
#define FAKE_NOW "fake_now=2024-05-20T10:00:00+08:00"
/* An export under ASan on a shared machine: generous. */
#define EXPORT_TIMEOUT_MS 180000
/* The page lists this many rows of a long list (REPORT_HTML_LIST_ROWS_MAX). */
#define PAGE_LIST_ROWS 200
/* How long to wait for the first sweep of a started server. */
#define SWEEP_WAIT_MS 10000

/* ---- the independent reader ----
 *
 * One Python script, four checks: "xlsx PATH R" (every sheet and figure,
 * lights for overdue_red_after_days = R), "html PATH", "manifest FOLDER"
 * (the row counts of the two report files), "cap FOLDER N CAP" (a list of
 * N rows: all in the workbook, the first CAP on the page). Prints what is
 * wrong and exits 1, or prints OK.
 */
/* One Python line per string: ISO C caps a string literal at 4095 characters. */
static const char *const checker_lines[] = {
    "import sys, re, json, os\n",
    "errors = []\n",
    "def want(cond, what):\n",
    "    if not cond: errors.append(what)\n",
    "def near(a, b): return isinstance(a, (int, float)) and not isinstance(a, bool) and abs(a - b) < 1e-6\n",
    "def rows_of(ws): return [[c.value for c in r] for r in ws.iter_rows()]\n",
    "def fill(c): return c.fill.fgColor.rgb if c.fill is not None and c.fill.fill_type == 'solid' else None\n",
    "mode = sys.argv[1]\n",
    "if mode == 'xlsx':\n",
    "    import openpyxl\n",
    "    R = int(sys.argv[3])\n",
    "    wb = openpyxl.load_workbook(sys.argv[2])\n",
    "    want(wb.sheetnames == ['说明', '乡镇汇总', '本月未走访', '走访完成情况', '项目阶段', '超期督办', '超期明细', '督办单', '未答复督办单', '缺口汇总', '包保缺口', '图表数据'], 'sheets %r' % wb.sheetnames)\n",
    "    about = {r[0]: r[1] for r in rows_of(wb['说明'])[1:]}\n",
    "    want(about.get('报告日期') == '2024-05-20', 'report date %r' % about.get('报告日期'))\n",
    "    want(('超过 %d 天红灯' % R) in (about.get('红黄绿灯') or ''), 'light rule %r' % about.get('红黄绿灯'))\n",
    "    t = rows_of(wb['乡镇汇总']); h = t[0]\n",
    "    want(h[:8] == ['乡镇园区', '类型', '企业数', '在营', '半停产', '停产', '筹建', '注销'], 'township head %r' % h)\n",
    "    want(h[8:11] == ['规上', '重点企业', '高新技术企业'] or h[8:11] == ['规上', '高新技术企业', '重点企业'], 'label columns %r' % h[8:11])\n",
    "    want(h[11:] == ['本月产值(万元)', '本年累计产值(万元)', '从业人数', '缺工人数', '本月已走访企业', '本月未走访企业'], 'township tail %r' % h[11:])\n",
    "    want(len(t) == 1 + 17 + 1, 'township rows %d' % len(t))\n",
    "    by = {r[0]: dict(zip(h, r)) for r in t[1:]}\n",
    "    exp = {\n",
    "      '蒲圻街道': {'企业数': 2, '在营': 1, '半停产': 1, '注销': 0, '规上': 2, '高新技术企业': 1, '重点企业': 0, '本月产值(万元)': 150, '本年累计产值(万元)': 400, '从业人数': 160, '缺工人数': 13, '本月已走访企业': 1, '本月未走访企业': 1},\n",
    "      '新店镇': {'企业数': 1, '注销': 1, '规上': 0, '本月产值(万元)': 0, '本年累计产值(万元)': 100, '从业人数': 0, '本月已走访企业': 0, '本月未走访企业': 0},\n",
    "      '赵李桥镇': {'企业数': 2, '在营': 1, '停产': 1, '重点企业': 1, '本月产值(万元)': 0, '本年累计产值(万元)': 0, '从业人数': 30, '缺工人数': 0, '本月已走访企业': 1, '本月未走访企业': 1},\n",
    "      '高新技术产业园区': {'企业数': 1, '在营': 1, '本月产值(万元)': 12345.6789, '本年累计产值(万元)': 12345.6789, '从业人数': 0, '本月已走访企业': 1, '本月未走访企业': 0},\n",
    "      '陆水湖街道': {'企业数': 0, '本月产值(万元)': 0, '本月未走访企业': 0},\n",
    "      '合计': {'企业数': 6, '在营': 3, '半停产': 1, '停产': 1, '筹建': 0, '注销': 1, '规上': 2, '重点企业': 1, '高新技术企业': 1, '本月产值(万元)': 12495.6789, '本年累计产值(万元)': 12845.6789, '从业人数': 190, '缺工人数': 13, '本月已走访企业': 3, '本月未走访企业': 2},\n",
    "    }\n",
    "    for name, cols in exp.items():\n",
    "        for col, v in cols.items():\n",
    "            got = by.get(name, {}).get(col)\n",
    "            want(near(got, v), '乡镇汇总 %s %s = %r, expected %r' % (name, col, got, v))\n",
    "    for r in t[1:]:\n",
    "        for v in r[2:]: want(isinstance(v, (int, float)), '乡镇汇总 %s: %r is not a number' % (r[0], v))\n",
    "    kinds = {r[0]: r[1] for r in t[1:]}\n",
    "    want(kinds.get('蒲圻街道') == '街道' and kinds.get('新店镇') == '镇' and kinds.get('余家桥乡') == '乡' and kinds.get('高新技术产业园区') == '园区' and kinds.get('合计') is None, '乡镇汇总 类型 %r' % kinds)\n",
    "    want(all(kinds[n] in ('街道', '镇', '乡', '园区') for n in kinds if n != '合计'), '乡镇汇总 类型 values %r' % kinds)\n",
    "    cells = list(wb['乡镇汇总'].iter_rows())\n",
    "    for r in cells[1:]:\n",
    "        for c, name in zip(r, h):\n",
    "            f = '#,##0.00' if name.endswith('(万元)') else None if name in ('乡镇园区', '类型') else '#,##0'\n",
    "            want(f is None or c.number_format == f, '乡镇汇总 %s %s format %r' % (r[0].value, name, c.number_format))\n",
    "    m = rows_of(wb['本月未走访'])\n",
    "    want(m[0] == ['乡镇园区', '企业编号', '企业名称', '统一社会信用代码', '产业集群', '经营状态', '最近走访日期'], 'missing head %r' % m[0])\n",
    "    got = [(r[0], r[2], r[6]) for r in m[1:]]\n",
    "    want(got == [('蒲圻街道', '高正新材料', '2024-04-20'), ('赵李桥镇', '凯利隆 <b>\"引号\", 逗号 & =1+1', '无记录')], 'missing rows %r' % got)\n",
    "    want(all(isinstance(r[1], int) for r in m[1:]), 'enterprise ids not numbers')\n",
    "    p = rows_of(wb['项目阶段'])\n",
    "    want(p[0] == ['阶段', '产业集群', '项目数', '计划投资(万元)', '计划投资(亿元)'], 'project head %r' % p[0])\n",
    "    exp = [('洽谈', '纺织服装', 1, 52000, 5.2), ('洽谈', '小计', 1, 52000, 5.2), ('签约', '大健康', 1, 100000, 10), ('签约', '小计', 1, 100000, 10),\n",
    "           ('开工', '电子信息', 1, 300000, 30), ('开工', '小计', 1, 300000, 30), ('终止', '未分类', 1, 60000, 6), ('终止', '小计', 1, 60000, 6), ('合计', None, 4, 512000, 51.2)]\n",
    "    want(len(p) == 1 + len(exp), 'project rows %r' % p)\n",
    "    for r, e in zip(p[1:], exp):\n",
    "        want(r[0] == e[0] and r[1] == e[1] and near(r[2], e[2]) and near(r[3], e[3]) and near(r[4], e[4]), 'project row %r, expected %r' % (r, e))\n",
    "    for r in list(wb['项目阶段'].iter_rows())[1:]:\n",
    "        want([c.number_format for c in r[2:]] == ['#,##0', '#,##0.00', '#,##0.0000'], '项目阶段 formats %r' % [c.number_format for c in r])\n",
    "    RED, YEL, GRN = 'FFFF0000', 'FFFFFF00', 'FF00B050'\n",
    "    FILL = {'红': RED, '黄': YEL, '绿': GRN}\n",
    "    def light_ok(c):\n",
    "        col = c.font.color.rgb if c.font is not None and c.font.color is not None else None\n",
    "        return c.value in FILL and fill(c) == FILL[c.value] and c.font.b and (col == 'FFFFFFFF') == (c.value != '黄')\n",
    "    ws = wb['超期督办']; o = rows_of(ws)\n",
    "    want(o[0] == ['灯', '类别', '责任人/责任单位', '所在单位', '超期项目节点', '超期问题', '红灯', '黄灯', '最长超期(天)', '在办未超期'], 'overdue head %r' % o[0])\n",
    "    if R == 30:\n",
    "        exp = [('红', '干部', '李四', '科信局', 0, 2, 1, 1, 50, 1), ('红', '单位', '科信局', None, 1, 1, 1, 1, 50, 0),\n",
    "               ('红', '干部', '张三', '招商办', 1, 0, 1, 0, 80, 1), ('红', '单位', '招商办', None, 1, 0, 1, 0, 80, 1),\n",
    "               ('绿', '单位', '绿灯单位', None, 0, 0, 0, 0, 0, 1)]\n",
    "    else:\n",
    "        exp = [('红', '干部', '张三', '招商办', 1, 0, 1, 0, 80, 1), ('红', '单位', '招商办', None, 1, 0, 1, 0, 80, 1),\n",
    "               ('黄', '干部', '李四', '科信局', 0, 2, 0, 2, 50, 1), ('黄', '单位', '科信局', None, 1, 1, 0, 2, 50, 0),\n",
    "               ('绿', '单位', '绿灯单位', None, 0, 0, 0, 0, 0, 1)]\n",
    "    got = [tuple(r) for r in o[1:]]\n",
    "    want(got == exp, '超期督办 %r, expected %r' % (got, exp))\n",
    "    for i, r in enumerate(o[1:]):\n",
    "        f = fill(ws.cell(row=i + 2, column=1))\n",
    "        want(f == (RED if r[0] == '红' else YEL if r[0] == '黄' else GRN), '超期督办 row %d light fill %r' % (i + 2, f))\n",
    "        want(light_ok(ws.cell(row=i + 2, column=1)), '超期督办 row %d light cell %r' % (i + 2, r[0]))\n",
    "        want(all(isinstance(v, int) for v in r[4:]), '超期督办 counts not numbers %r' % (r,))\n",
    "    ws = wb['超期明细']; d = rows_of(ws)\n",
    "    got = [(r[0], r[1], r[3], r[7]) for r in d[1:]]\n",
    "    lt = lambda days: '红' if days > R else '黄'\n",
    "    exp = [(lt(80), '项目节点', '维达力四期 · 投产', 80), (lt(10), '项目节点', '人福药辅迁扩建 · 注册', 10),\n",
    "           (lt(50), '问题', '缺熟练工 \"急\"', 50), (lt(2), '问题', '电压不稳,\\n经常跳闸', 2)]\n",
    "    want(got == exp, '超期明细 %r, expected %r' % (got, exp))\n",
    "    for i, r in enumerate(d[1:]):\n",
    "        f = fill(ws.cell(row=i + 2, column=1))\n",
    "        want(f == (RED if r[0] == '红' else YEL), '超期明细 row %d fill %r' % (i + 2, f))\n",
    "        want(light_ok(ws.cell(row=i + 2, column=1)), '超期明细 row %d light cell %r' % (i + 2, r[0]))\n",
    "        want(r[1] in ('项目节点', '问题') and isinstance(r[2], int) and isinstance(r[7], int), '超期明细 row %r' % (r,))\n",
    "    want(d[1][9] == '张三（包保市领导）' and d[1][10] == '招商办（牵头单位）', 'people %r' % (d[1],))\n",
    "    want(d[3][9] == '李四（联络员）' and d[3][10] == '科信局（承办单位）', 'people %r' % (d[3],))\n",
    "    g = rows_of(wb['缺口汇总'])\n",
    "    want(g[-1] == ['合计', 8, 4, 4, 4, 4, 12], 'gap total %r' % g[-1])\n",
    "    want([r for r in g if r[0] == '蒲圻街道'] == [['蒲圻街道', 6, 2, 2, 3, 3, 8]], 'gap 蒲圻街道')\n",
    "    l = rows_of(wb['包保缺口'])\n",
    "    want(len(l) == 13, 'gap list %d rows' % (len(l) - 1))\n",
    "    want(('重点项目', 1, '维达力四期', '蒲圻街道', '联络员', '省级重点', '开工') in [tuple(r) for r in l], 'P1 联络员 gap (its 联络员 ended) missing')\n",
    "    want(not any(r[2] == '已注销厂' for r in l), 'a deregistered enterprise has gaps')\n",
    "    want({r[0] for r in l[1:]} == {'重点企业', '重点项目'}, '包保缺口 类型 %r' % {r[0] for r in l[1:]})\n",
    "elif mode == 'html':\n",
    "    s = open(sys.argv[2], encoding='utf-8').read()\n",
    "    low = s.lower()\n",
    "    want(s.startswith('<!DOCTYPE html>'), 'doctype')\n",
    "    want('<html lang=\"zh-CN\">' in s, 'lang')\n",
    "    want('<meta charset=\"utf-8\">' in s, 'charset')\n",
    "    for bad in ['<script', 'javascript:', 'http://', 'https://', 'src=', 'url(', '@import', '<link', '<iframe', '<object', '<img']:\n",
    "        want(bad not in low, 'page has %s' % bad)\n",
    "    want(low.count('<svg') >= 5, 'charts: %d svg' % low.count('<svg'))\n",
    "    want(low.count('<svg') == low.count('</svg>'), 'svg not closed')\n",
    "    for sec in ['说明', '乡镇汇总', '本月未走访', '项目阶段', '超期督办', '超期明细', '督办单', '未答复督办单', '缺口汇总', '包保缺口']:\n",
    "        want(('<section id=\"%s\">' % sec) in s, 'section %s' % sec)\n",
    "    want('督〔2024〕902号' in s and '科信局（责任单位）' in s, 'page lacks the notices')\n",
    "    for fig in ['12,495.68', '12,845.68', '12,345.68', '512,000.00', '51.2000', '300,000.00',\n",
    "                '凯利隆 &lt;b&gt;&quot;引号&quot;, 逗号 &amp; =1+1', '维达力四期 · 投产', '电压不稳,<br>经常跳闸',\n",
    "                '<td class=\"light red\">红</td>', '<td class=\"light yellow\">黄</td>', '<td class=\"light green\">绿</td>', '张三（包保市领导）']:\n",
    "        want(fig in s, 'page lacks %r' % fig)\n",
    "    want('<b>' not in s, 'unescaped text')\n",
    "    tot = re.search(r'<tr class=\"total\"><td>合计</td><td></td>((?:<td[^>]*>[^<]*</td>)*)</tr>', s)\n",
    "    want(tot is not None, 'township total row')\n",
    "    if tot:\n",
    "        cells = re.findall(r'<td[^>]*>([^<]*)</td>', tot.group(1))\n",
    "        want(cells[:6] == ['6', '3', '1', '1', '0', '1'] and cells[-6:] == ['12,495.68', '12,845.68', '190', '13', '3', '2'], 'page total %r' % cells)\n",
    "elif mode == 'manifest':\n",
    "    import openpyxl\n",
    "    folder = sys.argv[2]\n",
    "    man = json.load(open(os.path.join(folder, 'manifest.json'), encoding='utf-8'))\n",
    "    files = {f['name']: f for f in man['files']}\n",
    "    want('reports.xlsx' in files and 'reports.html' in files, 'manifest files %r' % list(files))\n",
    "    wb = openpyxl.load_workbook(os.path.join(folder, 'reports.xlsx'), read_only=True)\n",
    "    n = sum(ws.max_row - 1 for ws in wb.worksheets if ws.title not in ('说明', '图表数据'))\n",
    "    want(files.get('reports.xlsx', {}).get('rows') == n, 'xlsx rows %r, sheets have %d' % (files.get('reports.xlsx', {}).get('rows'), n))\n",
    "    s = open(os.path.join(folder, 'reports.html'), encoding='utf-8').read()\n",
    "    body = s[s.index('<section id=\"乡镇汇总\">'):]\n",
    "    n = len(re.findall(r'<tr(?: class=\"(?:sub|total)\")?><td(?! colspan)', body))\n",
    "    want(files.get('reports.html', {}).get('rows') == n, 'html rows %r, page has %d' % (files.get('reports.html', {}).get('rows'), n))\n",
    "elif mode == 'cap':\n",
    "    import openpyxl\n",
    "    folder, N, CAP = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])\n",
    "    wb = openpyxl.load_workbook(os.path.join(folder, 'reports.xlsx'), read_only=True)\n",
    "    want(wb['本月未走访'].max_row - 1 == N, 'workbook list %d rows' % (wb['本月未走访'].max_row - 1))\n",
    "    s = open(os.path.join(folder, 'reports.html'), encoding='utf-8').read()\n",
    "    sec = s[s.index('<section id=\"本月未走访\">'):]\n",
    "    sec = sec[:sec.index('</section>')]\n",
    "    shown = sec.count('<tr><td')\n",
    "    want(shown == CAP, 'page list %d rows' % shown)\n",
    "    want(('共 %d 行，此处列出前 %d 行' % (N, CAP)) in sec, 'page note: %r' % sec[-300:])\n",
    "elif mode == 'print':\n",
    "    import openpyxl\n",
    "    wb = openpyxl.load_workbook(sys.argv[2]); today = sys.argv[3]\n",
    "    want(wb.sheetnames[-1] == '图表数据' and wb['图表数据'].sheet_state == 'hidden', 'chart data sheet %r' % wb.sheetnames[-1:])\n",
    "    for ws in wb.worksheets[:-1]:\n",
    "        ps = ws.page_setup; t = ws.title; pr = ws.sheet_properties.pageSetUpPr\n",
    "        want(ws.sheet_state == 'visible', '%s hidden' % t)\n",
    "        want(ps.orientation == 'landscape' and str(ps.paperSize) == '9', '%s page %r %r' % (t, ps.orientation, ps.paperSize))\n",
    "        want(pr is not None and pr.fitToPage and ps.fitToWidth in (None, 1), '%s not fitted to one page wide' % t)\n",
    "        want((ws.print_title_rows or '').replace('$', '') == '1:1', '%s print titles %r' % (t, ws.print_title_rows))\n",
    "        want(ws.freeze_panes in ('A2', 'B2'), '%s freeze %r' % (t, ws.freeze_panes))\n",
    "        f = ws.oddFooter\n",
    "        want(today in (f.left.text or '') and '&P' in (f.center.text or '') and '&N' in (f.center.text or ''), '%s footer %r %r' % (t, f.left.text, f.center.text))\n",
    "        want(bool(ws.oddHeader.center.text), '%s has no header' % t)\n",
    "    data = wb['图表数据']\n",
    "    def cells(ref):\n",
    "        x = data[ref.split('!')[1].replace('$', '')]\n",
    "        return [x.value] if hasattr(x, 'value') else [c.value for row in x for c in row]\n",
    "    def title(ch): return ''.join(r.t for p in ch.title.tx.rich.p for r in (p.r or []))\n",
    "    def ref(x): return (x.strRef or x.numRef).f\n",
    "    nch = {'乡镇汇总': 2, '项目阶段': 1, '超期督办': 1, '督办单': 1, '缺口汇总': 1}\n",
    "    for ws in wb.worksheets: want(len(ws._charts) == nch.get(ws.title, 0), '%s has %d charts' % (ws.title, len(ws._charts)))\n",
    "    t = rows_of(wb['乡镇汇总']); h = t[0]; by = {r[0]: dict(zip(h, r)) for r in t[1:]}\n",
    "    ch = wb['乡镇汇总']._charts[0]\n",
    "    want(ch.barDir == 'bar' and ch.grouping == 'stacked' and len(ch.series) == 4, 'township chart %r %r %d' % (ch.barDir, ch.grouping, len(ch.series)))\n",
    "    want(title(ch) == '各乡镇园区企业数（按经营状态，不含注销）（家）', 'township chart title %r' % title(ch))\n",
    "    cats = cells(ref(ch.series[0].cat))\n",
    "    want(cats == [r[0] for r in t[1:-1]], 'township chart bars %r' % cats)\n",
    "    for se in ch.series:\n",
    "        name = cells(ref(se.tx))[0]; vals = cells(se.val.numRef.f)\n",
    "        want(name in ('在营', '半停产', '停产', '筹建') and len(vals) == len(cats) and all(near(v, by[c][name]) for c, v in zip(cats, vals)), 'township chart %r %r' % (name, vals))\n",
    "    ch = wb['乡镇汇总']._charts[1]; vals = cells(ch.series[0].val.numRef.f)\n",
    "    want(near(vals[cats.index('高新技术产业园区')], 12345.6789) and near(sum(vals), 12495.6789), 'output chart %r' % vals)\n",
    "    g = rows_of(wb['缺口汇总']); gb = {r[0]: dict(zip(g[0], r)) for r in g[1:]}\n",
    "    ch = wb['缺口汇总']._charts[0]; cats = cells(ref(ch.series[0].cat))\n",
    "    for se in ch.series:\n",
    "        name = cells(ref(se.tx))[0]; vals = cells(se.val.numRef.f)\n",
    "        want(name in gb['合计'] and all(near(v, gb[c][name]) for c, v in zip(cats, vals)), 'gap chart %r %r' % (name, vals))\n",
    "    ch = wb['超期督办']._charts[0]\n",
    "    want([cells(ref(se.tx))[0] for se in ch.series] == ['红灯', '黄灯'] and cells(ref(ch.series[0].cat)) == ['科信局', '招商办'], 'overdue chart %r' % cells(ref(ch.series[0].cat)))\n",
    "    w = wb['乡镇汇总'].column_dimensions['A'].width\n",
    "    want(w >= 16, '乡镇汇总 A width %r: 高新技术产业园区 is 16 wide' % w)\n",
    "    ab = wb['说明']; tall = [(r, ab.row_dimensions[r].height) for r in range(2, ab.max_row + 1) if len(ab.cell(row=r, column=2).value or '') > 60]\n",
    "    want(tall and all((ht or 0) >= 30 for r, ht in tall) and ab.column_dimensions['B'].width <= 101, '说明 long rows %r' % tall)\n",
    "elif mode == 'notices':\n",
    "    import openpyxl, subprocess\n",
    "    wb = openpyxl.load_workbook(sys.argv[2]); db = sys.argv[3]; today = sys.argv[4]\n",
    "    def sql(q): return [l.split('|') for l in subprocess.run(['psql', '-X', '-qtA', '-d', db, '-c', q], capture_output=True, text=True, check=True).stdout.splitlines() if l]\n",
    "    exp = {}\n",
    "    for unit, st, rd, an, lv in sql(\"SELECT u.name, n.state, n.read_at IS NOT NULL, n.answered_at IS NOT NULL, n.level FROM notice n JOIN notice_recipient r ON r.notice_id = n.id JOIN unit u ON u.id = r.unit_id WHERE n.issued_on <= '%s'\" % today):\n",
    "        e = exp.setdefault(unit, [0] * 7)\n",
    "        for i, c in enumerate([True, rd == 't', an == 't', st in ('issued', 'read'), st == 'closed', lv == 'red', lv == 'escalated']): e[i] += int(c)\n",
    "    s = rows_of(wb['督办单'])\n",
    "    want(s[0] == ['责任单位', '下发', '已读', '已答复', '未答复', '已办结', '其中红牌', '其中升级'], '督办单 head %r' % s[0])\n",
    "    got = {r[0]: list(r[1:]) for r in s[1:-1]}\n",
    "    want(got == exp, '督办单 %r, expected %r' % (got, exp))\n",
    "    want([(r[4], r[1]) for r in s[1:-1]] == sorted([(r[4], r[1]) for r in s[1:-1]], reverse=True), '督办单 order %r' % s[1:-1])\n",
    "    k = got.get('科信局') or [0] * 7\n",
    "    want(k[1] >= 2 and k[2] >= 1 and k[4] >= 1, '科信局 lacks the read, answered and closed notices: %r' % k)\n",
    "    tot = [int(v) for v in sql(\"SELECT count(*), count(read_at), count(answered_at), count(*) FILTER (WHERE state IN ('issued', 'read')), count(*) FILTER (WHERE state = 'closed'), count(*) FILTER (WHERE level = 'red'), count(*) FILTER (WHERE level = 'escalated') FROM notice WHERE issued_on <= '%s'\" % today)[0]]\n",
    "    want(s[-1][0] == '合计（每份计一次）' and list(s[-1][1:]) == tot, '督办单 total %r, expected %r' % (s[-1], tot))\n",
    "    u = rows_of(wb['未答复督办单'])\n",
    "    want(u[0] == ['编号', '级别', '状态', '事项', '乡镇园区', '到期日期', '逾期天数', '责任人/单位', '下发日期', '已等待(天)'], '未答复 head %r' % u[0])\n",
    "    want([r[0] for r in u[1:]] == [e[0] for e in sql(\"SELECT '督〔' || year || '〕' || seq || '号' FROM notice WHERE state IN ('issued', 'read') AND issued_on <= '%s' ORDER BY issued_on, id\" % today)], '未答复 rows %r' % [r[0] for r in u[1:]])\n",
    "    r2 = [r for r in u[1:] if r[0] == '督〔2024〕902号']\n",
    "    want(r2 == [['督〔2024〕902号', '黄牌', '已读', '人福药辅迁扩建 注册', '高新技术产业园区', '2024-05-10', 10, '科信局（责任单位）', '2024-05-12', 8]], '902 %r' % r2)\n",
    "    r4 = [r for r in u[1:] if r[0] == '督〔2024〕904号']\n",
    "    want(len(r4) == 1 and r4[0][1:3] == ['升级', '已下发'] and r4[0][7] == '张三（包保市领导）' and r4[0][6] == 80, '904 %r' % r4)\n",
    "    want(not any(r[0] in ('督〔2024〕901号', '督〔2024〕903号', '督〔2024〕905号') for r in u[1:]), 'an answered, closed or later notice is listed')\n",
    "elif mode == 'csvtime':\n",
    "    import csv, subprocess\n",
    "    folder, db = sys.argv[2], sys.argv[3]\n",
    "    def sql(q): return [l.split('|') for l in subprocess.run(['psql', '-X', '-qtA', '-d', db, '-c', q], capture_output=True, text=True, check=True).stdout.splitlines() if l]\n",
    "    def rows(name): return list(csv.reader(open(os.path.join(folder, name), encoding='utf-8-sig', newline='')))\n",
    "    local = \"to_char(%s AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS')\"\n",
    "    e = rows('enterprises.csv'); h = e[0]\n",
    "    exp = sql('SELECT id, %s, %s FROM enterprise ORDER BY id' % (local % 'created_at', local % 'updated_at'))\n",
    "    got = [[r[h.index('编号')], r[h.index('创建时间')], r[h.index('更新时间')]] for r in e[1:]]\n",
    "    want(got == exp and len(got) == 6, 'enterprises.csv times %r, expected %r' % (got, exp))\n",
    "    want(all(re.fullmatch(r'\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d', t) for r in got for t in r[1:]), 'time format %r' % got[:1])\n",
    "    p = rows('problems.csv'); h = p[0]\n",
    "    exp = sql(\"SELECT id, coalesce(%s, ''), %s FROM problem ORDER BY id\" % (local % 'closed_at', local % 'created_at'))\n",
    "    got = [[r[h.index('编号')], r[h.index('办结时间')], r[h.index('创建时间')]] for r in p[1:]]\n",
    "    want(got == exp and any(r[1] for r in got), 'problems.csv times %r, expected %r' % (got, exp))\n",
    "    s = rows('status_reports.csv'); h = s[0]\n",
    "    exp = sql('SELECT id, %s FROM status_report WHERE withdrawn_at IS NULL ORDER BY id' % (local % 'created_at'))\n",
    "    want([[r[h.index('编号')], r[h.index('创建时间')]] for r in s[1:]] == exp, 'status_reports.csv times')\n",
    "elif mode == 'breaks':\n",
    "    import openpyxl, shutil, subprocess, tempfile\n",
    "    path = sys.argv[2]; wb = openpyxl.load_workbook(path); ws = wb['超期督办']\n",
    "    want(len(ws.row_breaks.brk) == 1 and ws.row_breaks.brk[0].id > ws.max_row, '超期督办 breaks %r, %d rows' % ([b.id for b in ws.row_breaks.brk], ws.max_row))\n",
    "    if shutil.which('soffice') and shutil.which('pdftotext'):\n",
    "        out = tempfile.mkdtemp()\n",
    "        subprocess.run(['soffice', '-env:UserInstallation=file://' + out + '/profile', '--headless', '--convert-to', 'pdf', '--outdir', out, path], capture_output=True, timeout=100)\n",
    "        pdf = os.path.join(out, 'reports.pdf')\n",
    "        text = subprocess.run(['pdftotext', '-layout', pdf, '-'], capture_output=True, text=True).stdout if os.path.exists(pdf) else ''\n",
    "        pages = [p for p in text.split('\\f') if '超期督办：按责任人和责任单位' in p]\n",
    "        want(len(pages) >= 2, 'LibreOffice printed %d pages of 超期督办' % len(pages))\n",
    "        want(all('类别' in p and '在办未超期' in p for p in pages), 'LibreOffice cut 超期督办 across pages: one page wide no more')\n",
    "        want(len(pages) >= 2 and '超期干部' in pages[-2] and '超期干部' not in pages[-1], 'the chart does not start a page of its own: %r' % [p.count('超期干部') for p in pages])\n",
    "        shutil.rmtree(out, ignore_errors=True)\n",
    "print('\\n'.join(errors) if errors else 'OK')\n",
    "sys.exit(1 if errors else 0)\n",
    NULL,
};

static char *g_script;

static int run_checker(const char *const *args)
{
    if (g_script == NULL) {
        size_t len = 1;
        for (size_t i = 0; checker_lines[i] != NULL; i++)
            len += strlen(checker_lines[i]);
        g_script = calloc(1, len);
        IT_CHECK(g_script != NULL);
        for (size_t i = 0; checker_lines[i] != NULL; i++)
            strcat(g_script, checker_lines[i]);
    }
    const char *argv[8] = {PYTHON, "-c", g_script};
    int n = 3;
    for (int i = 0; args[i] != NULL && n < 7; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    it_cli r;
    IT_CHECK(it_run(&r, argv, 120000) == 0);
    bool ok = r.status == 0 && strncmp(r.out, "OK", 2) == 0;
    if (!ok)
        it_fail(__FILE__, __LINE__, "checker %s: exit %d\n%s%s", args[0], r.status, r.out,
                r.err);
    it_cli_free(&r);
    return ok ? 0 : -1;
}

/* ---- data ---- */

static unsigned long g_code_n = 700000;

static int exec_all(const char *const *stmts)
{
    for (size_t i = 0; stmts[i] != NULL; i++)
        if (it_pg_exec(stmts[i], 0, NULL) != 0)
            return -1;
    return 0;
}

static int mk_enterprise(const char *name, const char *township, const char *cluster,
                         const char *labels, const char *status)
{
    char cc[19];
    it_credit_code(g_code_n++, cc);
    const char *p[] = {name, cc, township, cluster, labels, status};
    return it_pg_exec("INSERT INTO enterprise (name, credit_code, township_id, cluster, labels, status)"
                      " SELECT $1, $2, t.id, $4, $5::text[], $6 FROM township t WHERE t.name = $3",
                      6, p);
}

/* Six enterprises, their reports, two units and officials, four projects,
 * assignments and problems: the figures the checker expects. "Today" is
 * 2024-05-20; overdue days are counted from it. */
static int setup(void)
{
    if (mk_enterprise("住方科技", "蒲圻街道", "电子信息", "{规上,高新技术企业}", "在营") != 0 ||
        mk_enterprise("高正新材料", "蒲圻街道", "新材料", "{规上}", "半停产") != 0 ||
        mk_enterprise("龙兴无纺布", "赵李桥镇", "纺织服装", "{重点企业}", "在营") != 0 ||
        mk_enterprise("凯利隆 <b>\"引号\", 逗号 & =1+1", "赵李桥镇", NULL, "{}", "停产") != 0 ||
        mk_enterprise("泽翰实业", "高新技术产业园区", NULL, "{}", "在营") != 0 ||
        mk_enterprise("已注销厂", "新店镇", NULL, "{规上}", "注销") != 0)
        return -1;
    static const char *const stmts[] = {
        /* (enterprise name, date, output yuan, employees, shortage) */
        "INSERT INTO status_report (enterprise_id, report_date, reporter, production_status,"
        "                           output_value, employees, labour_shortage)"
        " SELECT e.id, v.d::date, '走访员', '正常', v.o, v.emp, v.sh"
        "   FROM (VALUES ('住方科技', '2024-05-03', 1000000, 100, 5),"
        "                ('住方科技', '2024-05-15', 1500000, 110, 3),"      /* the month's last */
        "                ('住方科技', '2024-04-10', 2000000, 90, 1),"
        "                ('高正新材料', '2024-04-20', 500000, 50, 10),"
        "                ('高正新材料', '2024-05-25', 7000000, 999, 999),"  /* after today */
        "                ('龙兴无纺布', '2024-05-01', NULL, 30, NULL),"
        "                ('龙兴无纺布', '2023-12-01', 9999999, 1, 1),"      /* last year */
        "                ('泽翰实业', '2024-05-20', 123456789, NULL, NULL),"
        "                ('已注销厂', '2024-02-01', 1000000, 7, 7))"
        "        AS v(n, d, o, emp, sh)"
        "   JOIN enterprise e ON e.name = v.n",
        "INSERT INTO unit (name) VALUES ('招商办'), ('科信局'), ('绿灯单位')",
        "INSERT INTO official (name, unit_id)"
        " SELECT '张三', id FROM unit WHERE name = '招商办'"
        " UNION ALL SELECT '李四', id FROM unit WHERE name = '科信局'",
        "INSERT INTO project (name, cluster, planned_investment, priority, lead_unit_id,"
        "                     township_id, stage, stage_reason)"
        " SELECT v.n, v.c, v.inv, v.pri, u.id, t.id, v.st, v.why"
        "   FROM (VALUES ('维达力四期', '电子信息', 3000000000, '省级重点', '招商办', '蒲圻街道', '开工', NULL),"
        "                ('人福药辅迁扩建', '大健康', 1000000000, '市级重点', NULL, '高新技术产业园区', '签约', NULL),"
        "                ('壹嘉制衣', '纺织服装', 520000000, '一般', NULL, '赵李桥镇', '洽谈', NULL),"
        "                ('科蓝特铝材', NULL, 600000000, '省级重点', NULL, '蒲圻街道', '终止', '资金不到位'))"
        "        AS v(n, c, inv, pri, lead, tw, st, why)"
        "   JOIN township t ON t.name = v.tw LEFT JOIN unit u ON u.name = v.lead",
        "INSERT INTO project_milestone (project_id, node)"
        " SELECT p.id, n.node FROM project p,"
        "        unnest(ARRAY['签约', '注册', '开工', '投产', '竣工']) AS n(node)"
        " ON CONFLICT DO NOTHING",
        /* (project, node, planned, actual) */
        "UPDATE project_milestone m SET planned_date = v.pd::date, actual_date = v.ad::date"
        "  FROM (VALUES ('维达力四期', '投产', '2024-03-01', NULL),"    /* 80 days late */
        "               ('维达力四期', '竣工', '2025-01-01', NULL),"    /* open, not late */
        "               ('维达力四期', '签约', '2023-06-01', '2023-06-05'),"
        "               ('人福药辅迁扩建', '注册', '2024-05-10', NULL),"  /* 10 days */
        "               ('科蓝特铝材', '开工', '2024-01-01', NULL))"      /* ended: not supervised */
        "       AS v(pn, node, pd, ad)"
        "  JOIN project p ON p.name = v.pn"
        " WHERE m.project_id = p.id AND m.node = v.node",
        "INSERT INTO assignment (official_id, unit_id, enterprise_id, project_id, role,"
        "                        period_start, period_end)"
        " SELECT o.id, NULL::bigint, NULL::bigint, p.id, '包保市领导', DATE '2024-01-01', NULL::date"
        "   FROM official o, project p WHERE o.name = '张三' AND p.name = '维达力四期'"
        " UNION ALL SELECT NULL, u.id, NULL, p.id, '责任单位', DATE '2024-01-01', NULL"
        "   FROM unit u, project p WHERE u.name = '科信局' AND p.name = '人福药辅迁扩建'"
        " UNION ALL SELECT o.id, NULL, e.id, NULL, '联络员', DATE '2024-01-01', NULL"
        "   FROM official o, enterprise e WHERE o.name = '李四' AND e.name = '龙兴无纺布'"
        " UNION ALL SELECT o.id, NULL, NULL, p.id, '联络员', DATE '2023-01-01', DATE '2024-01-31'"
        "   FROM official o, project p WHERE o.name = '李四' AND p.name = '维达力四期'",
        "INSERT INTO problem (enterprise_id, category, description, assignee_unit_id,"
        "                     assignee_official_id, deadline, state, closed_at)"
        " SELECT e.id, v.cat, v.descr, u.id, o.id, v.dl::date, v.st,"
        "        CASE WHEN v.st = '确认' THEN now() END"
        "   FROM (VALUES ('龙兴无纺布', '用工', '缺熟练工 \"急\"', '科信局', NULL, '2024-03-31', '办理'),"
        "                ('住方科技', '用电', E'电压不稳,\\n经常跳闸', NULL, '李四', '2024-05-18', '受理'),"
        "                ('住方科技', '融资', '已办结', '科信局', NULL, '2024-01-01', '确认'),"
        "                ('住方科技', '物流', '物流慢', NULL, '李四', '2024-06-30', '交办'),"
        "                ('泽翰实业', '物流', '不急', '绿灯单位', NULL, '2024-12-31', '受理'))"   /* green */
        "        AS v(en, cat, descr, un, off, dl, st)"
        "   JOIN enterprise e ON e.name = v.en"
        "   LEFT JOIN unit u ON u.name = v.un LEFT JOIN official o ON o.name = v.off",
        /* Notices (督办单) in every state, numbered 901.. so the sweep's own
         * (from 1) never clash: 901 answered, 902 read, 903 closed, 904
         * escalated to the 包保市领导 (no unit), 905 issued after today. */
        "INSERT INTO notice (year, seq, project_id, node, problem_id, level, state, township_id,"
        "                    title, due_date, days_overdue, issued_on, read_at, answered_at,"
        "                    answer, closed_at, closed_on, close_reason)"
        " SELECT 2024, v.seq, p.id, v.node, q.id, v.lv, v.st, t.id, v.title, v.due::date,"
        "        v.dd, v.iss::date, CASE WHEN v.st <> 'issued' THEN now() END,"
        "        CASE WHEN v.st = 'answered' THEN now() END,"
        "        CASE WHEN v.st = 'answered' THEN '已协调' END,"
        "        CASE WHEN v.st = 'closed' THEN now() END,"
        "        CASE WHEN v.st = 'closed' THEN DATE '2024-02-01' END,"
        "        CASE WHEN v.st = 'closed' THEN 'done' END"
        "   FROM (VALUES (901, NULL, NULL, '缺熟练工 \"急\"', 'red', 'answered', '赵李桥镇',"
        "                 '问题 缺熟练工', '2024-03-31', 40, '2024-05-10'),"
        "                (902, '人福药辅迁扩建', '注册', NULL, 'yellow', 'read', '高新技术产业园区',"
        "                 '人福药辅迁扩建 注册', '2024-05-10', 2, '2024-05-12'),"
        "                (903, NULL, NULL, '已办结', 'red', 'closed', '蒲圻街道',"
        "                 '问题 已办结', '2024-01-01', 31, '2024-01-05'),"
        "                (904, '维达力四期', '投产', NULL, 'escalated', 'issued', '蒲圻街道',"
        "                 '维达力四期 投产', '2024-03-01', 75, '2024-05-15'),"
        "                (905, NULL, NULL, '物流慢', 'due', 'issued', '蒲圻街道',"
        "                 '问题 物流慢', '2024-06-30', -36, '2024-05-25'))"
        "        AS v(seq, pn, node, descr, lv, st, tw, title, due, dd, iss)"
        "   JOIN township t ON t.name = v.tw"
        "   LEFT JOIN project p ON p.name = v.pn LEFT JOIN problem q ON q.description = v.descr",
        "INSERT INTO notice_recipient (notice_id, official_id, unit_id, role)"
        " SELECT n.id, o.id, u.id, v.role"
        "   FROM (VALUES (901, '李四', NULL, '联络员'), (901, NULL, '科信局', '承办单位'),"
        "                (902, NULL, '科信局', '责任单位'), (903, NULL, '科信局', '承办单位'),"
        "                (904, '张三', NULL, '包保市领导'), (905, NULL, '招商办', '承办单位'))"
        "        AS v(seq, off, un, role)"
        "   JOIN notice n ON n.year = 2024 AND n.seq = v.seq"
        "   LEFT JOIN official o ON o.name = v.off LEFT JOIN unit u ON u.name = v.un",
        NULL,
    };
    return exec_all(stmts);
}

/* ---- an export run ---- */

/* The export folders this binary made (under /tmp), removed at the end
 * when every test passed (kept for a look otherwise). */
#define MAX_EXPORT_DIRS 8
static char g_dirs[MAX_EXPORT_DIRS][32];
static int g_ndirs;

/* Starts a server pinned to 2024-05-20 with its own export folder and the
 * given overdue_red_after_days, runs export.run {wait: true} as the
 * supervisor, and puts the run's folder path in folder. */
static int export_once(const char *red_after, char *folder, size_t folderlen)
{
    char dir[] = "/tmp/itest-reports-XXXXXX";
    IT_CHECK(mkdtemp(dir) != NULL);
    if (g_ndirs < MAX_EXPORT_DIRS)
        snprintf(g_dirs[g_ndirs++], sizeof g_dirs[0], "%s", dir);
    char set_dir[128], set_red[64];
    snprintf(set_dir, sizeof set_dir, "export_dir=%s", dir);
    snprintf(set_red, sizeof set_red, "overdue_red_after_days=%s", red_after);
    const char *sets[] = {FAKE_NOW, set_dir, set_red, "export_time=", NULL};
    const char *env[] = {"TZ=UTC", NULL};
    it_server *s = it_server_start_env(sets, env);
    IT_CHECK(s != NULL);
    /* The sweep at start (server/methods/supervise.c) issues notices for
     * the overdue items: let it commit first, so the run's snapshot and
     * what the checker reads from the database afterwards are the same. */
    for (int i = 0; i < SWEEP_WAIT_MS / 50 && it_pg_int("SELECT count(*) FROM light_state", 0,
                                                          NULL) <= 0; i++)
        usleep(50 * 1000);
    it_conn *c = it_connect(s->port);
    IT_CHECK(c != NULL);
    it_buf b;
    it_buf_init(&b);
    it_req(&b, 1, "export.run", 1);
    it_str(&b, "wait");
    msgpack_pack_true(&b.pk);
    it_msg m;
    int rc = it_call(c, b.sb.data, b.sb.size, 1, EXPORT_TIMEOUT_MS, &m);
    it_buf_free(&b);
    IT_CHECK(rc == IT_RECV_MSG);
    char d[512], sub[128] = "", status[32] = "";
    it_describe(&m, d, sizeof d);
    bool ok = !m.is_error && m.result != NULL &&
              it_get_str(m.result, "status", status, sizeof status) &&
              strcmp(status, "ok") == 0 && it_get_str(m.result, "folder", sub, sizeof sub);
    it_msg_free(&m);
    IT_CHECKF(ok, "export.run: %s", d);
    snprintf(folder, folderlen, "%s/%s", dir, sub);
    it_close(c);
    IT_CHECK(it_server_stop(s, IT_STOP_TIMEOUT_MS) == 0);
    return 0;
}

/* The folder of the first export (default threshold), made once and shared
 * by the tests that only read it. */
static char g_folder[512];

static const char *first_export(void)
{
    if (g_folder[0] == '\0' && export_once("30", g_folder, sizeof g_folder) != 0) {
        g_folder[0] = '\0';
        return NULL;
    }
    return g_folder;
}

static int file_in(const char *folder, const char *name, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s", folder, name);
    struct stat st;
    IT_CHECKF(stat(out, &st) == 0 && st.st_size > 0, "%s missing or empty", out);
    return 0;
}

/* ---- tests ---- */

/* Every sheet in order, every figure of the data set, numbers in number
 * cells, money in 万元 and 亿元, red and yellow fills. */
static int workbook_sheets_hold_the_figures_as_numbers(void)
{
    const char *folder = first_export();
    IT_CHECK(folder != NULL);
    char path[640];
    IT_CHECK(file_in(folder, "reports.xlsx", path, sizeof path) == 0);
    const char *args[] = {"xlsx", path, "30", NULL};
    return run_checker(args);
}

/* The same figures on the page, SVG charts, and nothing that runs or
 * reaches out: no script, no URL, no external resource; text escaped. */
static int page_has_same_figures_svg_charts_and_no_script_or_url(void)
{
    const char *folder = first_export();
    IT_CHECK(folder != NULL);
    char path[640];
    IT_CHECK(file_in(folder, "reports.html", path, sizeof path) == 0);
    const char *args[] = {"html", path, NULL};
    return run_checker(args);
}

/* report.c's row counts reach the manifest and match what a reader
 * counts: data rows of every sheet but 说明; table rows of the page. */
static int manifest_counts_the_report_rows(void)
{
    const char *folder = first_export();
    IT_CHECK(folder != NULL);
    const char *args[] = {"manifest", folder, NULL};
    return run_checker(args);
}

/* overdue_red_after_days = 60: items 50 days late turn yellow, 80 stay
 * red, in both overdue sheets (and the order puts red first). */
static int lights_follow_the_configured_threshold(void)
{
    char folder[512];
    IT_CHECK(export_once("60", folder, sizeof folder) == 0);
    char path[640];
    IT_CHECK(file_in(folder, "reports.xlsx", path, sizeof path) == 0);
    const char *args[] = {"xlsx", path, "60", NULL};
    return run_checker(args);
}

/* 250 more enterprises never visited: the workbook lists all 252, the page
 * its first rows and says how many there are. Last: it changes the data. */
static int page_lists_first_rows_of_a_long_list_and_says_how_many(void)
{
    static const char *const stmts[] = {
        "INSERT INTO enterprise (name, credit_code, township_id)"
        " SELECT '未走访企业' || g, c.code, 2"
        "   FROM generate_series(1, 250) g,"
        "   LATERAL (SELECT b || x AS code"
        "              FROM (SELECT '91421281' || lpad((800000 + g)::text, 9, '0') AS b) y,"
        "                   unnest(string_to_array('0123456789ABCDEFGHJKLMNPQRTUWXY', NULL)) x"
        "             WHERE bb_credit_code_valid(b || x) LIMIT 1) c",
        NULL,
    };
    IT_CHECK(exec_all(stmts) == 0);
    char folder[512];
    IT_CHECK(export_once("30", folder, sizeof folder) == 0);
    char cap[16];
    snprintf(cap, sizeof cap, "%d", PAGE_LIST_ROWS);
    const char *args[] = {"cap", folder, "252", cap, NULL};
    return run_checker(args);
}

/* Issue 13: printable. Every report sheet is A4 landscape, one page wide,
 * its header row repeated and the report date and page numbers in the
 * footer; native bar charts (those of the page) read their figures from
 * the hidden 图表数据 sheet, and those figures are the table's; columns
 * fit Chinese text and the long 说明 rows wrap onto taller rows. */
static int workbook_prints_landscape_one_page_wide_with_charts(void)
{
    const char *folder = first_export();
    IT_CHECK(folder != NULL);
    char path[640];
    IT_CHECK(file_in(folder, "reports.xlsx", path, sizeof path) == 0);
    const char *args[] = {"print", path, "2024-05-20", NULL};
    return run_checker(args);
}

/* The 督办单 sheet counts the notices issued up to the report date by
 * recipient unit (a notice once per unit), worked out again here from the
 * notice tables, with a 合计 that counts each notice once; 未答复督办单
 * lists exactly the notices waiting for an answer, oldest first. */
static int notices_sheets_count_by_unit_and_list_the_unanswered(void)
{
    const char *folder = first_export();
    IT_CHECK(folder != NULL);
    char path[640];
    IT_CHECK(file_in(folder, "reports.xlsx", path, sizeof path) == 0);
    const char *args[] = {"notices", path, it_db_name(), "2024-05-20", NULL};
    return run_checker(args);
}

/* The CSV files of the run give instants in local time (time_zone,
 * Asia/Shanghai), "YYYY-MM-DD HH:MM:SS", whatever the process's TZ (the
 * server runs with TZ=UTC here): the database's instants, converted again
 * by the checker. */
static int csv_times_are_local_in_time_zone(void)
{
    const char *folder = first_export();
    IT_CHECK(folder != NULL);
    const char *args[] = {"csvtime", folder, it_db_name(), NULL};
    return run_checker(args);
}

/* A long sheet with a chart (超期督办 with 60 more officials late): a
 * page break after the table, and in LibreOffice (checked when soffice is
 * installed) the chart alone on the last page and every page one page
 * wide (the whole header row on each). Excel ignores the break on a
 * sheet fitted to pages (PROTOCOL.md says so). Changes the data: last. */
static int long_sheet_prints_its_chart_on_a_page_of_its_own(void)
{
    static const char *const stmts[] = {
        "INSERT INTO official (name, unit_id)"
        " SELECT '超期干部' || g, (SELECT id FROM unit WHERE name = '科信局')"
        "   FROM generate_series(1, 60) g",
        "INSERT INTO problem (enterprise_id, category, description, assignee_official_id,"
        "                     deadline, state)"
        " SELECT (SELECT id FROM enterprise WHERE name = '住方科技'), '用地',"
        "        '超期问题' || g, o.id, DATE '2024-04-01', '办理'"
        "   FROM generate_series(1, 60) g JOIN official o ON o.name = '超期干部' || g",
        NULL,
    };
    IT_CHECK(exec_all(stmts) == 0);
    char folder[512];
    IT_CHECK(export_once("30", folder, sizeof folder) == 0);
    char path[640];
    IT_CHECK(file_in(folder, "reports.xlsx", path, sizeof path) == 0);
    const char *print[] = {"print", path, "2024-05-20", NULL};
    IT_CHECK(run_checker(print) == 0);
    const char *args[] = {"breaks", path, NULL};
    return run_checker(args);
}

static const it_test tests[] = {
    {"workbook_sheets_hold_the_figures_as_numbers", workbook_sheets_hold_the_figures_as_numbers},
    {"page_has_same_figures_svg_charts_and_no_script_or_url",
     page_has_same_figures_svg_charts_and_no_script_or_url},
    {"manifest_counts_the_report_rows", manifest_counts_the_report_rows},
    {"workbook_prints_landscape_one_page_wide_with_charts",
     workbook_prints_landscape_one_page_wide_with_charts},
    {"notices_sheets_count_by_unit_and_list_the_unanswered",
     notices_sheets_count_by_unit_and_list_the_unanswered},
    {"csv_times_are_local_in_time_zone", csv_times_are_local_in_time_zone},
    {"lights_follow_the_configured_threshold", lights_follow_the_configured_threshold},
    {"page_lists_first_rows_of_a_long_list_and_says_how_many",
     page_lists_first_rows_of_a_long_list_and_says_how_many},
    {"long_sheet_prints_its_chart_on_a_page_of_its_own",
     long_sheet_prints_its_chart_on_a_page_of_its_own},
};

int main(int argc, char **argv)
{
    if (access(PYTHON, X_OK) != 0) {
        fprintf(stderr, "%s is missing: the workbook needs an independent reader\n", PYTHON);
        return IT_SKIP;
    }
    int rc = it_main(argc, argv, "reports", tests, sizeof tests / sizeof tests[0], setup);
    for (int i = 0; rc == 0 && i < g_ndirs; i++) {
        const char *rm[] = {"rm", "-rf", "--", g_dirs[i], NULL};
        it_cli r;
        if (it_run(&r, rm, 30000) == 0)
            it_cli_free(&r);
    }
    return rc;
}
