"""Makes cards/fonts/NotoSansSC-Regular.subset.ttf, the font the charts draw with.

The source is Noto Sans SC Regular (OFL-1.1), e.g. NotoSansSC_400Regular.ttf from the npm
package @expo-google-fonts/noto-sans-sc. Kept: ASCII, common punctuation and symbols, every
GB2312 character and the whole CJK Unified Ideographs block (U+4E00-U+9FFF), so any department
name typed in GBK renders; dropped: hinting, the extension blocks and other scripts
(10.6 MB -> 7.7 MB). Needs fontTools (Debian: python3-fonttools).

    python3 scripts/subset-cjk-font.py NotoSansSC_400Regular.ttf
"""
import sys

from fontTools import subset

chars = set()
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            chars.add(bytes([hi, lo]).decode('gb2312'))
        except UnicodeDecodeError:
            pass
ranges = [(0x20, 0x7F), (0xA0, 0x100), (0x2010, 0x2070), (0x2100, 0x2200), (0x2460, 0x2500), (0x3000, 0x3040), (0x4E00, 0xA000), (0xFF00, 0xFFF0)]
for lo, hi in ranges:
    chars.update(chr(c) for c in range(lo, hi))

options = subset.Options()
options.layout_features = ['*']
options.hinting = False
options.name_IDs = ['*']
options.name_languages = ['*']
font = subset.load_font(sys.argv[1], options)
s = subset.Subsetter(options)
s.populate(text=''.join(sorted(chars)))
s.subset(font)
subset.save_font(font, 'cards/fonts/NotoSansSC-Regular.subset.ttf', options)
