"""Renders a terminal capture with ANSI colours (tmux capture-pane -p -e) to a PNG.

Used to make docs/task-list.png for the README:
    tmux capture-pane -t SESSION -p -e > capture.ansi
    python3 docs/render-terminal.py capture.ansi docs/task-list.png
Needs Pillow (pip install pillow) and the DejaVu Sans Mono font; not part of the tool.
"""
import re
import sys
from PIL import Image, ImageDraw, ImageFont

PALETTE = {30: (40, 42, 54), 31: (255, 85, 85), 32: (80, 250, 123), 33: (241, 250, 140), 34: (98, 114, 164),
           35: (255, 121, 198), 36: (139, 233, 253), 37: (248, 248, 242), 90: (98, 114, 164), 91: (255, 110, 110),
           92: (105, 255, 148), 93: (255, 255, 165), 94: (150, 160, 255), 95: (255, 146, 223), 96: (164, 255, 255), 97: (255, 255, 255)}
FG, BG = (230, 230, 230), (30, 31, 41)
SGR = re.compile(r'\x1b\[([0-9;]*)m')


def spans(line):
    """Yields (text, colour, bold) runs of one line."""
    colour, bold, pos = FG, False, 0
    for m in SGR.finditer(line):
        if m.start() > pos:
            yield line[pos:m.start()], colour, bold
        for code in [int(c) for c in (m.group(1) or '0').split(';') if c.isdigit()] or [0]:
            if code == 0:
                colour, bold = FG, False
            elif code == 1:
                bold = True
            elif code == 39:
                colour = FG
            elif code in PALETTE:
                colour = PALETTE[code]
        pos = m.end()
    if pos < len(line):
        yield line[pos:], colour, bold


def main(src, dest):
    lines = open(src, encoding='utf-8').read().rstrip('\n').split('\n')
    while lines and not SGR.sub('', lines[-1]).strip():
        lines.pop()
    regular = ImageFont.truetype('/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf', 15)
    bold = ImageFont.truetype('/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf', 15)
    cw, ch = regular.getbbox('M')[2], 20
    width = max(len(SGR.sub('', l)) for l in lines)
    img = Image.new('RGB', (width * cw + 32, len(lines) * ch + 32), BG)
    draw = ImageDraw.Draw(img)
    for row, line in enumerate(lines):
        x = 16
        for text, colour, is_bold in spans(line):
            draw.text((x, 16 + row * ch), text, fill=colour, font=bold if is_bold else regular)
            x += len(text) * cw
    img.save(dest)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
