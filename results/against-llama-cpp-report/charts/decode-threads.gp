# decode-threads.gp - written by tlbench report. Data: decode-threads.tsv (tab-separated; labels from the CSVs are sanitized).
# Re-draw: cd to this directory and run 'gnuplot decode-threads.gp'.
set terminal pngcairo size 1140,770 font 'DejaVu Sans,10' noenhanced background rgb 'white'
set output 'decode-threads.png'
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
set multiplot layout 2,3 title 'Decode tokens/s vs threads'."\n".'unknown (AMD EPYC)'."\n".'model tinyllama-1.1b (synthetic weights) | 128-token prompt, 32 generated | KV f16 | shortest context | 2026-12-08 | tlbench 0.1.0' font ',12'
set title 'f32 weights' font ',10'
set xtics (1, 2)
unset logscale x
set xrange [0.5:2.5]
set yrange [0:10.9913]
set xlabel 'threads'
set ylabel 'decode tokens/s'
set key top left
plot 'decode-threads.tsv' index 0 using 1:2:3 with yerrorlines ls 1 title 'avx512', \
     'decode-threads.tsv' index 0 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     'decode-threads.tsv' index 1 using 1:2:3 with yerrorlines ls 2 title 'llama.cpp', \
     'decode-threads.tsv' index 1 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle
set title 'f16 weights' font ',10'
set xtics (1, 2)
unset logscale x
set xrange [0.5:2.5]
set yrange [0:21.6935]
set xlabel 'threads'
set ylabel ''
set key top left
plot 'decode-threads.tsv' index 2 using 1:2:3 with yerrorlines ls 1 title 'avx512', \
     'decode-threads.tsv' index 2 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     'decode-threads.tsv' index 3 using 1:2:3 with yerrorlines ls 2 title 'llama.cpp', \
     'decode-threads.tsv' index 3 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     1/0 with points pt 6 ps 2.6 lc rgb '#333333' title 'circled: noisy, invalid or shared cores'
set title 'bf16 weights' font ',10'
set xtics (1, 2)
unset logscale x
set xrange [0.5:2.5]
set yrange [0:20.7975]
set xlabel 'threads'
set ylabel ''
set key top left
plot 'decode-threads.tsv' index 4 using 1:2:3 with yerrorlines ls 1 title 'avx512', \
     'decode-threads.tsv' index 4 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     'decode-threads.tsv' index 5 using 1:2:3 with yerrorlines ls 2 title 'llama.cpp', \
     'decode-threads.tsv' index 5 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     1/0 with points pt 6 ps 2.6 lc rgb '#333333' title 'circled: noisy, invalid or shared cores'
set title 'q8_0 weights' font ',10'
set xtics (1, 2)
unset logscale x
set xrange [0.5:2.5]
set yrange [0:42.6293]
set xlabel 'threads'
set ylabel 'decode tokens/s'
set key top left
plot 'decode-threads.tsv' index 6 using 1:2:3 with yerrorlines ls 1 title 'avx512', \
     'decode-threads.tsv' index 6 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     'decode-threads.tsv' index 7 using 1:2:3 with yerrorlines ls 2 title 'llama.cpp', \
     'decode-threads.tsv' index 7 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     1/0 with points pt 6 ps 2.6 lc rgb '#333333' title 'circled: noisy, invalid or shared cores'
set title 'q4_0 weights' font ',10'
set xtics (1, 2)
unset logscale x
set xrange [0.5:2.5]
set yrange [0:74.8325]
set xlabel 'threads'
set ylabel ''
set key top left
plot 'decode-threads.tsv' index 8 using 1:2:3 with yerrorlines ls 1 title 'avx512', \
     'decode-threads.tsv' index 8 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     'decode-threads.tsv' index 9 using 1:2:3 with yerrorlines ls 2 title 'llama.cpp', \
     'decode-threads.tsv' index 9 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     1/0 with points pt 6 ps 2.6 lc rgb '#333333' title 'circled: noisy, invalid or shared cores'
unset multiplot
unset output
set terminal svg size 1140,770 font 'DejaVu Sans,10' noenhanced background rgb 'white'
set output 'decode-threads.svg'
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
set multiplot layout 2,3 title 'Decode tokens/s vs threads'."\n".'unknown (AMD EPYC)'."\n".'model tinyllama-1.1b (synthetic weights) | 128-token prompt, 32 generated | KV f16 | shortest context | 2026-12-08 | tlbench 0.1.0' font ',12'
set title 'f32 weights' font ',10'
set xtics (1, 2)
unset logscale x
set xrange [0.5:2.5]
set yrange [0:10.9913]
set xlabel 'threads'
set ylabel 'decode tokens/s'
set key top left
plot 'decode-threads.tsv' index 0 using 1:2:3 with yerrorlines ls 1 title 'avx512', \
     'decode-threads.tsv' index 0 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     'decode-threads.tsv' index 1 using 1:2:3 with yerrorlines ls 2 title 'llama.cpp', \
     'decode-threads.tsv' index 1 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle
set title 'f16 weights' font ',10'
set xtics (1, 2)
unset logscale x
set xrange [0.5:2.5]
set yrange [0:21.6935]
set xlabel 'threads'
set ylabel ''
set key top left
plot 'decode-threads.tsv' index 2 using 1:2:3 with yerrorlines ls 1 title 'avx512', \
     'decode-threads.tsv' index 2 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     'decode-threads.tsv' index 3 using 1:2:3 with yerrorlines ls 2 title 'llama.cpp', \
     'decode-threads.tsv' index 3 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     1/0 with points pt 6 ps 2.6 lc rgb '#333333' title 'circled: noisy, invalid or shared cores'
set title 'bf16 weights' font ',10'
set xtics (1, 2)
unset logscale x
set xrange [0.5:2.5]
set yrange [0:20.7975]
set xlabel 'threads'
set ylabel ''
set key top left
plot 'decode-threads.tsv' index 4 using 1:2:3 with yerrorlines ls 1 title 'avx512', \
     'decode-threads.tsv' index 4 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     'decode-threads.tsv' index 5 using 1:2:3 with yerrorlines ls 2 title 'llama.cpp', \
     'decode-threads.tsv' index 5 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     1/0 with points pt 6 ps 2.6 lc rgb '#333333' title 'circled: noisy, invalid or shared cores'
set title 'q8_0 weights' font ',10'
set xtics (1, 2)
unset logscale x
set xrange [0.5:2.5]
set yrange [0:42.6293]
set xlabel 'threads'
set ylabel 'decode tokens/s'
set key top left
plot 'decode-threads.tsv' index 6 using 1:2:3 with yerrorlines ls 1 title 'avx512', \
     'decode-threads.tsv' index 6 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     'decode-threads.tsv' index 7 using 1:2:3 with yerrorlines ls 2 title 'llama.cpp', \
     'decode-threads.tsv' index 7 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     1/0 with points pt 6 ps 2.6 lc rgb '#333333' title 'circled: noisy, invalid or shared cores'
set title 'q4_0 weights' font ',10'
set xtics (1, 2)
unset logscale x
set xrange [0.5:2.5]
set yrange [0:74.8325]
set xlabel 'threads'
set ylabel ''
set key top left
plot 'decode-threads.tsv' index 8 using 1:2:3 with yerrorlines ls 1 title 'avx512', \
     'decode-threads.tsv' index 8 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     'decode-threads.tsv' index 9 using 1:2:3 with yerrorlines ls 2 title 'llama.cpp', \
     'decode-threads.tsv' index 9 using 1:($4 > 0 ? $2 : 1/0) with points pt 6 ps 2.6 lc rgb '#333333' notitle, \
     1/0 with points pt 6 ps 2.6 lc rgb '#333333' title 'circled: noisy, invalid or shared cores'
unset multiplot
unset output
