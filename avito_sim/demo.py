"""The ``--seed demo`` data set: one account with items, statistics and chats."""

from __future__ import annotations

import random
import struct
import zlib
from datetime import timedelta

from .models import now_ts, today_utc
from .server import AvitoSimulator

DEMO_CLIENT_ID = "demo-client"
DEMO_CLIENT_SECRET = "demo-secret"  # noqa: S105 - public demo credentials
DEMO_USER_ID = 1001

_ITEM_TITLES = (
    "Диван угловой",
    "Стол обеденный",
    "Шкаф-купе",
    "Кресло офисное",
    "Холодильник Bosch",
    "Стиральная машина LG",
    "Велосипед горный",
    "Ноутбук Lenovo",
    'Телевизор Samsung 50"',
    "Детская кроватка",
    "Микроволновка",
    "Пылесос",
)


def seed_demo(sim: AvitoSimulator, stats_days: int = 60) -> None:
    """Create the demo account (``demo-client``/``demo-secret``, user 1001 "Demo Shop")."""
    rng = random.Random(1001)
    sim.add_account(
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        DEMO_USER_ID,
        name="Demo Shop",
        email="demo@example.com",
        phone="79001234567",
        balance_real=1520.5,
        balance_bonus=300.0,
        cpa_balance=-5000,
    )
    today = today_utc()
    item_ids = [3_000_000_000 + index for index in range(len(_ITEM_TITLES))]
    for index, (item_id, title) in enumerate(zip(item_ids, _ITEM_TITLES, strict=False)):
        stats = {}
        for back in range(stats_days):
            views = rng.randint(0, 60)
            stats[(today - timedelta(days=back)).isoformat()] = (views, rng.randint(0, views // 6), rng.randint(0, 4))
        status = "old" if index == len(item_ids) - 1 else "active"
        sim.add_item(DEMO_USER_ID, item_id, title, status=status, price=rng.randint(10, 900) * 100, stats=stats)
    _seed_chats(sim, item_ids)
    _seed_reviews_and_calls(sim, item_ids)


def _seed_reviews_and_calls(sim: AvitoSimulator, item_ids: list[int]) -> None:
    now = now_ts()
    reviews = (
        (5, "Всё отлично, диван привезли вовремя.", "Анна", "done", "Спасибо, Анна! Рады, что всё понравилось."),
        (2, "Продавец долго не отвечал, в итоге не договорились.", "Игорь", "not_agree", None),
        (4, "Хороший стол, но была небольшая царапина.", "Мария", "done", None),
        (1, "Объявление неактуально, зря съездил.", "Олег", "fell_through", None),
    )
    for index, (score, text, name, stage, answer) in enumerate(reviews):
        sim.add_review(
            DEMO_USER_ID,
            score,
            text,
            review_id=9_100_000 + index,
            created=now - (index + 1) * 86_400,
            sender_name=name,
            item_id=item_ids[index],
            item_title=_ITEM_TITLES[index],
            stage=stage,
            answer=answer,
        )
    for index, phone in enumerate(("79161112233", "79035554433", "79267778899")):
        sim.add_call(
            DEMO_USER_ID,
            phone,
            call_id=8_100_000 + index,
            call_time=now - (index + 1) * 5_400,
            talk_duration=45 + 30 * index,
            item_id=item_ids[index],
            record=None if index == 0 else demo_mp3(),  # the newest call's recording is not ready yet
        )


def _seed_chats(sim: AvitoSimulator, item_ids: list[int]) -> None:
    now = now_ts()
    buyers = ("Анна", "Игорь", "Мария", "Олег", "Светлана")
    for index, buyer in enumerate(buyers):
        is_u2u = index == len(buyers) - 1
        chat_id = f"u2u-demo{index:04d}" if is_u2u else f"u2i-demo{index:04d}"
        started = now - (index + 1) * 7200
        sim.add_chat(
            DEMO_USER_ID,
            chat_id,
            chat_type="u2u" if is_u2u else "u2i",
            item_id=None if is_u2u else item_ids[index],
            client_name=buyer,
            client_user_id=500_000 + index,
            created=started,
            updated=started,
        )
        unread = index < 2
        lines = [
            ("in", "Здравствуйте! Ещё продаётся?"),
            ("out", "Добрый день, да, в наличии."),
            ("in", "Можно посмотреть сегодня вечером?"),
        ]
        for number, (direction, text) in enumerate(lines):
            is_last = number == len(lines) - 1
            sim.add_message(
                DEMO_USER_ID,
                chat_id,
                f"{index:02d}{number:02d}" + "a" * 28,
                text,
                direction=direction,
                created=started + number * 600,
                is_read=not (unread and is_last),
            )
        if index == 0:  # the newest chat also has a photo and a voice note from the buyer
            sim.add_image_message(
                DEMO_USER_ID, chat_id, "0003" + "b" * 28, demo_png(), created=started + 1900, is_read=True
            )
            sim.add_voice_message(
                DEMO_USER_ID, chat_id, "0004" + "c" * 28, "demo-voice-0001", created=started + 2000, is_read=False
            )


def demo_png(width: int = 160, height: int = 120) -> bytes:
    """A small real PNG (a blue-to-orange gradient), so the demo's image message shows something."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(
        b"\x00" + b"".join(bytes((40 + 200 * x // width, 90, 220 - 180 * x // width)) for x in range(width))
        for _ in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def demo_mp3() -> bytes:
    """A short silent MPEG-1 Layer III stream (one second of frames), so the demo's recordings play."""
    header = bytes((0xFF, 0xFB, 0x90, 0x64))  # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, stereo
    frame = header + bytes(417 - len(header))
    return frame * 38
