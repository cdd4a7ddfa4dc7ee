# memory.gp - written by tlbench report. Data: memory.tsv (tab-separated; labels from the CSVs are sanitized).
# Re-draw: cd to this directory and run 'gnuplot memory.gp'.
set terminal pngcairo size 1100,620 font 'DejaVu Sans,10' noenhanced background rgb 'white'
set output 'memory.png'
reset
set encoding utf8
set datafile separator "\t"
set border 3 lc rgb '#606060'
set tics nomirror out scale 0.6
set grid ytics lc rgb '#e3e3e3' lw 1 dt 1
set key noopaque nobox font ',9' samplen 2 spacing 1.1
set style fill solid 0.88 border rgb '#404040'
set style line 1 lc rgb '#4E79A7' lw 2 pt 7 ps 1.1
set style line 2 lc rgb '#F28E2B' lw 2 pt 5 ps 1.1
set style line 3 lc rgb '#59A14F' lw 2 pt 9 ps 1.1
set style line 4 lc rgb '#E15759' lw 2 pt 13 ps 1.1
set style line 5 lc rgb '#B07AA1' lw 2 pt 11 ps 1.1
set style line 6 lc rgb '#76B7B2' lw 2 pt 15 ps 1.1
set style line 7 lc rgb '#EDC948' lw 2 pt 6 ps 1.1
set style line 8 lc rgb '#FF9DA7' lw 2 pt 4 ps 1.1
set style line 9 lc rgb '#9C755F' lw 2 pt 7 ps 1.1
set style line 10 lc rgb '#BAB0AC' lw 2 pt 5 ps 1.1
set multiplot layout 1,1 title 'Peak memory by weight type, with RAM budgets'."\n".'unknown (AMD EPYC)'."\n".'model tinyllama-1.1b (synthetic weights) | largest peak RSS measured per weight type | KV f16 | 2026-12-08 | tlbench 0.1.0' font ',12'
set style data histograms
set style histogram clustered gap 1
set boxwidth 0.92
set xtics nomirror scale 0
set key outside top center horizontal
set ylabel 'peak memory (GiB)'
set xlabel 'weight type'
set yrange [0:8.8]
set xrange [-0.6:4.6]
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead lc rgb '#C0392B' lw 1.5 dt 2 front
set label 1 '1 GiB budget' at graph 0.995, first 1 right offset 0,0.55 tc rgb '#C0392B' font ',9' front
set arrow 2 from graph 0, first 2 to graph 1, first 2 nohead lc rgb '#C0392B' lw 1.5 dt 2 front
set label 2 '2 GiB budget' at graph 0.995, first 2 right offset 0,0.55 tc rgb '#C0392B' font ',9' front
set arrow 3 from graph 0, first 4 to graph 1, first 4 nohead lc rgb '#C0392B' lw 1.5 dt 2 front
set label 3 '4 GiB budget' at graph 0.995, first 4 right offset 0,0.55 tc rgb '#C0392B' font ',9' front
set arrow 4 from graph 0, first 8 to graph 1, first 8 nohead lc rgb '#C0392B' lw 1.5 dt 2 front
set label 4 '8 GiB budget' at graph 0.995, first 8 right offset 0,0.55 tc rgb '#C0392B' font ',9' front
plot 'memory.tsv' index 0 using 2:xtic(1) ls 1 title 'unknown (AMD EPYC)', \
     for [j=0:0] 'memory.tsv' index 0 using ($0 + (j - 0)/2):(column(2+j)):(sprintf('%.2f', column(2+j))) with labels offset 0,0.6 font ',8' notitle
unset multiplot
unset output
set terminal svg size 1100,620 font 'DejaVu Sans,10' noenhanced background rgb 'white'
set output 'memory.svg'
reset
set encoding utf8
set datafile separator "\t"
set border 3 lc rgb '#606060'
set tics nomirror out scale 0.6
set grid ytics lc rgb '#e3e3e3' lw 1 dt 1
set key noopaque nobox font ',9' samplen 2 spacing 1.1
set style fill solid 0.88 border rgb '#404040'
set style line 1 lc rgb '#4E79A7' lw 2 pt 7 ps 1.1
set style line 2 lc rgb '#F28E2B' lw 2 pt 5 ps 1.1
set style line 3 lc rgb '#59A14F' lw 2 pt 9 ps 1.1
set style line 4 lc rgb '#E15759' lw 2 pt 13 ps 1.1
set style line 5 lc rgb '#B07AA1' lw 2 pt 11 ps 1.1
set style line 6 lc rgb '#76B7B2' lw 2 pt 15 ps 1.1
set style line 7 lc rgb '#EDC948' lw 2 pt 6 ps 1.1
set style line 8 lc rgb '#FF9DA7' lw 2 pt 4 ps 1.1
set style line 9 lc rgb '#9C755F' lw 2 pt 7 ps 1.1
set style line 10 lc rgb '#BAB0AC' lw 2 pt 5 ps 1.1
set multiplot layout 1,1 title 'Peak memory by weight type, with RAM budgets'."\n".'unknown (AMD EPYC)'."\n".'model tinyllama-1.1b (synthetic weights) | largest peak RSS measured per weight type | KV f16 | 2026-12-08 | tlbench 0.1.0' font ',12'
set style data histograms
set style histogram clustered gap 1
set boxwidth 0.92
set xtics nomirror scale 0
set key outside top center horizontal
set ylabel 'peak memory (GiB)'
set xlabel 'weight type'
set yrange [0:8.8]
set xrange [-0.6:4.6]
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead lc rgb '#C0392B' lw 1.5 dt 2 front
set label 1 '1 GiB budget' at graph 0.995, first 1 right offset 0,0.55 tc rgb '#C0392B' font ',9' front
set arrow 2 from graph 0, first 2 to graph 1, first 2 nohead lc rgb '#C0392B' lw 1.5 dt 2 front
set label 2 '2 GiB budget' at graph 0.995, first 2 right offset 0,0.55 tc rgb '#C0392B' font ',9' front
set arrow 3 from graph 0, first 4 to graph 1, first 4 nohead lc rgb '#C0392B' lw 1.5 dt 2 front
set label 3 '4 GiB budget' at graph 0.995, first 4 right offset 0,0.55 tc rgb '#C0392B' font ',9' front
set arrow 4 from graph 0, first 8 to graph 1, first 8 nohead lc rgb '#C0392B' lw 1.5 dt 2 front
set label 4 '8 GiB budget' at graph 0.995, first 8 right offset 0,0.55 tc rgb '#C0392B' font ',9' front
plot 'memory.tsv' index 0 using 2:xtic(1) ls 1 title 'unknown (AMD EPYC)', \
     for [j=0:0] 'memory.tsv' index 0 using ($0 + (j - 0)/2):(column(2+j)):(sprintf('%.2f', column(2+j))) with labels offset 0,0.6 font ',8' notitle
unset multiplot
unset output
