#!/usr/bin/env bash
# Debian packages Xinglin needs beside Python: CJK fonts (Chinese in PDFs and charts),
# Pango (WeasyPrint), poppler (reading PDFs in tests), chromium (browser tests) and a Java 17
# runtime (the Spark backend and its tests: pyspark starts a JVM).
# Installs what is missing where it can (root with apt-get); otherwise says what to install.
set -u
need=()
fc-list 2>/dev/null | grep -qi "Noto Sans CJK\|Noto Serif CJK" || need+=(fonts-noto-cjk)
# a free 楷体 for the PDF's second-level headings (GB/T 9704); optional: without it the PDF
# falls back to Noto Serif CJK
fc-list 2>/dev/null | grep -qi "AR PL UKai" || need+=(fonts-arphic-ukai)
[ -e /usr/lib/x86_64-linux-gnu/libpangoft2-1.0.so.0 ] || ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || need+=(libpangoft2-1.0-0)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
command -v msgfmt >/dev/null || need+=(gettext)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v java >/dev/null || [ -x "${JAVA_HOME:-/nonexistent}/bin/java" ] || need+=(openjdk-17-jre-headless)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq "${need[@]}" >/dev/null || {
    echo "apt-get could not install: ${need[*]}" >&2; exit 0; }
else
  echo "Missing Debian packages (install them as root): apt-get install ${need[*]}" >&2
fi
exit 0
