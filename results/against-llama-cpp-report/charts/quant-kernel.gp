# quant-kernel.gp - written by tlbench report. Data: quant-kernel.tsv (tab-separated; labels from the CSVs are sanitized).
# Re-draw: cd to this directory and run 'gnuplot quant-kernel.gp'.
set terminal pngcairo size 1200,470 font 'DejaVu Sans,10' noenhanced background rgb 'white'
set output 'quant-kernel.png'
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
set multiplot layout 1,2 title 'Tokens/s by weight type and kernel'."\n".'unknown (AMD EPYC)'."\n".'model tinyllama-1.1b (synthetic weights) | most threads measured | KV f16 | shortest context | 2026-12-08 | tlbench 0.1.0' font ',12'
set style data histograms
set style histogram errorbars gap 1.5 lw 1
set boxwidth 0.92
set xtics nomirror scale 0
set key inside top left
set title 'decode, 2 threads' font ',10'
set ylabel 'decode tokens/s'
set yrange [0:84.5933]
set xrange [-0.6:4.6]
plot 'quant-kernel.tsv' index 0 using 2:3:xtic(1) ls 1 title 'avx512', \
     'quant-kernel.tsv' index 0 using 4:5 ls 2 title 'llama.cpp'
set title 'prefill, 2 threads' font ',10'
set ylabel 'prefill tokens/s'
set yrange [0:357.902]
set xrange [-0.6:4.6]
plot 'quant-kernel.tsv' index 1 using 2:3:xtic(1) ls 1 title 'avx512', \
     'quant-kernel.tsv' index 1 using 4:5 ls 2 title 'llama.cpp'
unset multiplot
unset output
set terminal svg size 1200,470 font 'DejaVu Sans,10' noenhanced background rgb 'white'
set output 'quant-kernel.svg'
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
set multiplot layout 1,2 title 'Tokens/s by weight type and kernel'."\n".'unknown (AMD EPYC)'."\n".'model tinyllama-1.1b (synthetic weights) | most threads measured | KV f16 | shortest context | 2026-12-08 | tlbench 0.1.0' font ',12'
set style data histograms
set style histogram errorbars gap 1.5 lw 1
set boxwidth 0.92
set xtics nomirror scale 0
set key inside top left
set title 'decode, 2 threads' font ',10'
set ylabel 'decode tokens/s'
set yrange [0:84.5933]
set xrange [-0.6:4.6]
plot 'quant-kernel.tsv' index 0 using 2:3:xtic(1) ls 1 title 'avx512', \
     'quant-kernel.tsv' index 0 using 4:5 ls 2 title 'llama.cpp'
set title 'prefill, 2 threads' font ',10'
set ylabel 'prefill tokens/s'
set yrange [0:357.902]
set xrange [-0.6:4.6]
plot 'quant-kernel.tsv' index 1 using 2:3:xtic(1) ls 1 title 'avx512', \
     'quant-kernel.tsv' index 1 using 4:5 ls 2 title 'llama.cpp'
unset multiplot
unset output
