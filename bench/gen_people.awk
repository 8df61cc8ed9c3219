# bench/gen_people.awk — N synthetic residents as the registry's CSV import
# expects (header of the usual Chinese column names), for workload (f).
# Valid 18-digit ID numbers (GB 11643 check digit), unique per row; three
# people per flat; grids taken round-robin from the file GRIDS (one code a line).
#   awk -v N=1000000 -v GRIDS=grids.txt -f gen_people.awk > people.csv
BEGIN {
	srand(2026)
	split("7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2", w, " ")
	split("1 0 X 9 8 7 6 5 4 3 2", chk, " ")
	ng = 0
	while ((getline g < GRIDS) > 0) if (g != "") grids[ng++] = g
	if (ng == 0) { print "gen_people: no grids in " GRIDS > "/dev/stderr"; exit 1 }
	split("王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 高 林 罗", fam, " ")
	split("伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 秀英 华 平", giv, " ")
	print "姓名,公民身份号码,联系电话,所属网格,小区,楼栋,单元,房号"
	for (i = 0; i < N; i++) {
		d = int(i / 1000)                       # one birth day per 1000 people
		y = 1950 + int(d / 336); m = 1 + int((d % 336) / 28); dd = 1 + d % 28
		id = sprintf("510100%04d%02d%02d%03d", y, m, dd, i % 1000)
		s = 0
		for (k = 1; k <= 17; k++) s += substr(id, k, 1) * w[k]
		id = id chk[s % 11 + 1]
		flat = int(i / 3)
		printf "%s%s,%s,1%d%09d,%s,幸福小区%d期,%d栋,%d单元,%d\n",
			fam[1 + i % 20], giv[1 + int(i / 20) % 20], id, 3 + i % 7, i,
			grids[flat % ng], 1 + flat % 9, 1 + int(flat / 9) % 30, 1 + int(flat / 270) % 4,
			100 * (1 + int(flat / 1080) % 30) + 1 + flat % 4
	}
}
