"""Demo world, accounts part: 300 lawyers, 500 askers and a staff admin.

The password is hashed once and the hash reused, so seeding stays fast while the real hasher
(argon2) stays as strong as in production.

A demo account that was deleted (accounts.services.user_delete keeps the row, renamed
`~deleted-<id>`) comes back at the next seed as a fresh account under its old username, so
every demo login in the README keeps working: a new row with a new id, and nothing of the old
one's (its questions, chats and consults stay with the former account). The other parts know
their content by what it is, not by who holds it, so the fresh account is not given the same
questions or chats again."""

from __future__ import annotations

import random

from django.contrib.auth.hashers import make_password
from django.db.models import Value
from django.db.models.functions import Concat

from accounts.models import User

DEMO_PASSWORD = "lawline-demo"
LAWYER_COUNT = 300
ASKER_COUNT = 500
# every demo account can try "Forgot your password?": the mail lands in .devdata/mail/
DEMO_EMAIL_DOMAIN = "demo.lawline.example"
DEMO_LOGINS = (("asker", "asker001"), ("lawyer", "lawyer001"), ("staff", "admin"))

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志宏晓文斌浩宇欣怡子涵梓轩雨泽佳琪"


def demo_phone(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def seed(stdout) -> None:
    rng = random.Random(20261126)
    password_hash = make_password(DEMO_PASSWORD)
    users: list[User] = []
    for i in range(1, LAWYER_COUNT + 1):
        surname = rng.choice(SURNAMES)
        users.append(
            User(
                username=f"lawyer{i:03d}",
                role=User.Role.LAWYER,
                password=password_hash,
                first_name=rng.choice(GIVEN) + rng.choice(GIVEN),
                last_name=surname,
                phone=demo_phone(rng),
            )
        )
    for i in range(1, ASKER_COUNT + 1):
        users.append(
            User(
                username=f"asker{i:03d}",
                role=User.Role.ASKER,
                password=password_hash,
                phone=demo_phone(rng),
            )
        )
    users.append(
        User(
            username="admin",
            role=User.Role.STAFF,
            password=password_hash,
            is_staff=True,
            is_superuser=True,
        )
    )
    User.objects.bulk_create(users, ignore_conflicts=True)
    # also for demo worlds seeded before demo accounts had an address
    User.objects.filter(email="", username__regex=r"^((asker|lawyer)\d{3}|admin)$").update(
        email=Concat("username", Value(f"@{DEMO_EMAIL_DOMAIN}"))
    )
    stdout.write(f"  accounts: {User.objects.count()} users")
