# kernels-roofline.gp - written by tlbench report. Data: kernels-roofline.tsv (tab-separated; labels from the CSVs are sanitized).
# Re-draw: cd to this directory and run 'gnuplot kernels-roofline.gp'.
set terminal pngcairo size 1200,630 font 'DejaVu Sans,10' noenhanced background rgb 'white'
set output 'kernels-roofline.png'
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
set multiplot layout 1,2 title 'Matmul kernels against the measured limits of the machine'."\n".'CPU AMD EPYC'."\n".'model tinyllama-1.1b (synthetic weights) | tlbench kernels on the model''s matrix shapes | 2026-12-06 | tlbench 0.1.0' font ',12'
set style data points
set title 'roofline, 2 threads (open: decode m = 1, filled: prefill m > 1)' font ',10'
set logscale xy 10
set format x '%g'
set format y '%g'
set xrange [0.25:910.222]
set yrange [2.69736:1421.19]
set xtics autofreq
set xlabel 'arithmetic intensity (FLOP per byte of weights)'
set ylabel 'GFLOP/s'
set grid xtics ytics
set key bottom right
plot 'kernels-roofline.tsv' index 0 using 1:2:3:4 with yerrorbars ls 1 pt 6 ps 1.3 notitle, \
     'kernels-roofline.tsv' index 1 using 1:2:3:4 with yerrorbars ls 1 pt 7 ps 1.3 title 'tiled', \
     'kernels-roofline.tsv' index 2 using 1:2:3:4 with yerrorbars ls 4 pt 6 ps 1.3 notitle, \
     'kernels-roofline.tsv' index 3 using 1:2:3:4 with yerrorbars ls 4 pt 7 ps 1.3 title 'avx2', \
     'kernels-roofline.tsv' index 4 using 1:2:3:4 with yerrorbars ls 5 pt 6 ps 1.3 notitle, \
     'kernels-roofline.tsv' index 5 using 1:2:3:4 with yerrorbars ls 5 pt 7 ps 1.3 title 'avx512', \
     'kernels-roofline.tsv' index 6 using 1:2:3:4 with yerrorbars ls 2 pt 6 ps 1.3 notitle, \
     'kernels-roofline.tsv' index 7 using 1:2:3:4 with yerrorbars ls 2 pt 7 ps 1.3 title 'openblas', \
     'kernels-roofline.tsv' index 8 using 1:2:3:4 with yerrorbars ls 3 pt 6 ps 1.3 notitle, \
     'kernels-roofline.tsv' index 9 using 1:2:3:4 with yerrorbars ls 3 pt 7 ps 1.3 title 'blis', \
     'kernels-roofline.tsv' index 10 using 1:2:3:4 with yerrorbars ls 6 pt 6 ps 1.3 notitle, \
     'kernels-roofline.tsv' index 11 using 1:2:3:4 with yerrorbars ls 6 pt 7 ps 1.3 title 'avx512x16', \
     (x * 67.5403 < 235.506 ? x * 67.5403 : 235.506) with lines lc rgb '#333333' dt 2 lw 1.5 title 'measured limits: 67.5 GB/s, 236 GFLOP/s f32'
unset logscale xy
set format y '%g'
set style data histograms
set style histogram clustered gap 1
set boxwidth 0.92
set xtics nomirror scale 0
set grid noxtics ytics
set title 'decode (m = 1): weight bytes streamed per second' font ',10'
set xlabel 'weight type'
set ylabel 'GB/s'
set xrange [-0.6:3.6]
set yrange [0:97.9335]
set key inside top left
set arrow 1 from graph 0, first 67.5403 to graph 1, first 67.5403 nohead lc rgb '#333333' dt 2 lw 1.5 front
set label 1 'measured read bandwidth 67.5 GB/s' at graph 0.99, first 67.5403 right offset 0,0.6 font ',9' front
plot 'kernels-roofline.tsv' index 12 using 2:xtic(1) ls 1 title 'tiled', \
     'kernels-roofline.tsv' index 12 using 3 ls 4 title 'avx2', \
     'kernels-roofline.tsv' index 12 using 4 ls 5 title 'avx512', \
     'kernels-roofline.tsv' index 12 using 5 ls 2 title 'openblas', \
     'kernels-roofline.tsv' index 12 using 6 ls 3 title 'blis', \
     'kernels-roofline.tsv' index 12 using 7 ls 6 title 'avx512x16'
unset arrow 1
unset label 1
unset multiplot
unset output
set terminal svg size 1200,630 font 'DejaVu Sans,10' noenhanced background rgb 'white'
set output 'kernels-roofline.svg'
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
set multiplot layout 1,2 title 'Matmul kernels against the measured limits of the machine'."\n".'CPU AMD EPYC'."\n".'model tinyllama-1.1b (synthetic weights) | tlbench kernels on the model''s matrix shapes | 2026-12-06 | tlbench 0.1.0' font ',12'
set style data points
set title 'roofline, 2 threads (open: decode m = 1, filled: prefill m > 1)' font ',10'
set logscale xy 10
set format x '%g'
set format y '%g'
set xrange [0.25:910.222]
set yrange [2.69736:1421.19]
set xtics autofreq
set xlabel 'arithmetic intensity (FLOP per byte of weights)'
set ylabel 'GFLOP/s'
set grid xtics ytics
set key bottom right
plot 'kernels-roofline.tsv' index 0 using 1:2:3:4 with yerrorbars ls 1 pt 6 ps 1.3 notitle, \
     'kernels-roofline.tsv' index 1 using 1:2:3:4 with yerrorbars ls 1 pt 7 ps 1.3 title 'tiled', \
     'kernels-roofline.tsv' index 2 using 1:2:3:4 with yerrorbars ls 4 pt 6 ps 1.3 notitle, \
     'kernels-roofline.tsv' index 3 using 1:2:3:4 with yerrorbars ls 4 pt 7 ps 1.3 title 'avx2', \
     'kernels-roofline.tsv' index 4 using 1:2:3:4 with yerrorbars ls 5 pt 6 ps 1.3 notitle, \
     'kernels-roofline.tsv' index 5 using 1:2:3:4 with yerrorbars ls 5 pt 7 ps 1.3 title 'avx512', \
     'kernels-roofline.tsv' index 6 using 1:2:3:4 with yerrorbars ls 2 pt 6 ps 1.3 notitle, \
     'kernels-roofline.tsv' index 7 using 1:2:3:4 with yerrorbars ls 2 pt 7 ps 1.3 title 'openblas', \
     'kernels-roofline.tsv' index 8 using 1:2:3:4 with yerrorbars ls 3 pt 6 ps 1.3 notitle, \
     'kernels-roofline.tsv' index 9 using 1:2:3:4 with yerrorbars ls 3 pt 7 ps 1.3 title 'blis', \
     'kernels-roofline.tsv' index 10 using 1:2:3:4 with yerrorbars ls 6 pt 6 ps 1.3 notitle, \
     'kernels-roofline.tsv' index 11 using 1:2:3:4 with yerrorbars ls 6 pt 7 ps 1.3 title 'avx512x16', \
     (x * 67.5403 < 235.506 ? x * 67.5403 : 235.506) with lines lc rgb '#333333' dt 2 lw 1.5 title 'measured limits: 67.5 GB/s, 236 GFLOP/s f32'
unset logscale xy
set format y '%g'
set style data histograms
set style histogram clustered gap 1
set boxwidth 0.92
set xtics nomirror scale 0
set grid noxtics ytics
set title 'decode (m = 1): weight bytes streamed per second' font ',10'
set xlabel 'weight type'
set ylabel 'GB/s'
set xrange [-0.6:3.6]
set yrange [0:97.9335]
set key inside top left
set arrow 1 from graph 0, first 67.5403 to graph 1, first 67.5403 nohead lc rgb '#333333' dt 2 lw 1.5 front
set label 1 'measured read bandwidth 67.5 GB/s' at graph 0.99, first 67.5403 right offset 0,0.6 font ',9' front
plot 'kernels-roofline.tsv' index 12 using 2:xtic(1) ls 1 title 'tiled', \
     'kernels-roofline.tsv' index 12 using 3 ls 4 title 'avx2', \
     'kernels-roofline.tsv' index 12 using 4 ls 5 title 'avx512', \
     'kernels-roofline.tsv' index 12 using 5 ls 2 title 'openblas', \
     'kernels-roofline.tsv' index 12 using 6 ls 3 title 'blis', \
     'kernels-roofline.tsv' index 12 using 7 ls 6 title 'avx512x16'
unset arrow 1
unset label 1
unset multiplot
unset output
