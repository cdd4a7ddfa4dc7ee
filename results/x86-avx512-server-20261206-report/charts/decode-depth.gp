# decode-depth.gp - written by tlbench report. Data: decode-depth.tsv (tab-separated; labels from the CSVs are sanitized).
# Re-draw: cd to this directory and run 'gnuplot decode-depth.gp'.
set terminal pngcairo size 1000,510 font 'DejaVu Sans,10' noenhanced background rgb 'white'
set output 'decode-depth.png'
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
set multiplot layout 1,1 title 'Decode tokens/s vs context depth'."\n".'x86-avx512-server (AMD EPYC)'."\n".'model tinyllama-1.1b (synthetic weights) | fastest kernel per weight type | KV f32 | 2026-12-06 | tlbench 0.1.0' font ',12'
set title '' font ',10'
set xlabel 'context depth (tokens already in the KV cache)'
set ylabel 'decode tokens/s'
set xrange [-7.68:269.8]
set yrange [0:74.0658]
set key inside top right
set xtics (0, 256)
plot 'decode-depth.tsv' index 0 using 1:2:3 with yerrorlines ls 1 title 'f32 (avx2, 2 thr)', \
     'decode-depth.tsv' index 0 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     'decode-depth.tsv' index 1 using 1:2:3 with yerrorlines ls 2 title 'f16 (avx2, 2 thr)', \
     'decode-depth.tsv' index 1 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     'decode-depth.tsv' index 2 using 1:2:3 with yerrorlines ls 3 title 'q8_0 (avx2, 2 thr)', \
     'decode-depth.tsv' index 2 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     'decode-depth.tsv' index 3 using 1:2:3 with yerrorlines ls 4 title 'q4_0 (avx512, 2 thr)', \
     'decode-depth.tsv' index 3 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     1/0 with points pt 6 ps 2.6 lc rgb '#333333' title 'circled: noisy, invalid or shared cores'
unset multiplot
unset output
set terminal svg size 1000,510 font 'DejaVu Sans,10' noenhanced background rgb 'white'
set output 'decode-depth.svg'
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
set multiplot layout 1,1 title 'Decode tokens/s vs context depth'."\n".'x86-avx512-server (AMD EPYC)'."\n".'model tinyllama-1.1b (synthetic weights) | fastest kernel per weight type | KV f32 | 2026-12-06 | tlbench 0.1.0' font ',12'
set title '' font ',10'
set xlabel 'context depth (tokens already in the KV cache)'
set ylabel 'decode tokens/s'
set xrange [-7.68:269.8]
set yrange [0:74.0658]
set key inside top right
set xtics (0, 256)
plot 'decode-depth.tsv' index 0 using 1:2:3 with yerrorlines ls 1 title 'f32 (avx2, 2 thr)', \
     'decode-depth.tsv' index 0 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     'decode-depth.tsv' index 1 using 1:2:3 with yerrorlines ls 2 title 'f16 (avx2, 2 thr)', \
     'decode-depth.tsv' index 1 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     'decode-depth.tsv' index 2 using 1:2:3 with yerrorlines ls 3 title 'q8_0 (avx2, 2 thr)', \
     'decode-depth.tsv' index 2 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     'decode-depth.tsv' index 3 using 1:2:3 with yerrorlines ls 4 title 'q4_0 (avx512, 2 thr)', \
     'decode-depth.tsv' index 3 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     1/0 with points pt 6 ps 2.6 lc rgb '#333333' title 'circled: noisy, invalid or shared cores'
unset multiplot
unset output
